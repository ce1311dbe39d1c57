/* JSON <-> protobuf-c messages of the card, driven by the messages'
 * descriptors so that every field keeps its proto name; the few fields
 * with a friendlier JSON form are handled by name. See card_json.h. */
#include "card_json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card_enum.h"
#include "cli.h"
#include "money.h"
#include "pbfield.h"

/* The enums with names of our own; the others use the proto's. */
static const card_enum *enum_table(const ProtobufCEnumDescriptor *ed)
{
	if (ed == &carta__v1__section__descriptor)
		return card_enum_sections;
	if (ed == &carta__v1__access__descriptor)
		return card_enum_access;
	if (ed == &carta__v1__consent_state__descriptor)
		return card_enum_consent;
	if (ed == &carta__v1__field_type__descriptor)
		return card_enum_field_types;
	return NULL;
}

static bool is_time(const ProtobufCFieldDescriptor *f)
{
	size_t n = strlen(f->name);

	return f->type == PROTOBUF_C_TYPE_INT64 &&
	       (strcmp(f->name, "at") == 0 ||
		(n > 3 && strcmp(f->name + n - 3, "_at") == 0));
}

/* ---- Encoding ---------------------------------------------------------- */

static json_t *enc_msg(const ProtobufCMessage *m);

static json_t *enc_time(int64_t t)
{
	char when[32];

	cli_time(t, when, sizeof when);
	return json_string(when);
}

/* The value at p (one element of f) as JSON; *zero tells whether it is
 * the field's empty value. */
static json_t *enc_value(const ProtobufCFieldDescriptor *f, const void *p,
			 bool *zero)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		*zero = s == NULL || s[0] == '\0';
		return cli_json_str(s != NULL ? s : "");
	}
	case PROTOBUF_C_TYPE_BOOL:
		*zero = !*(const protobuf_c_boolean *)p;
		return json_boolean(!*zero);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*zero = *(const int32_t *)p == 0;
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*zero = *(const uint32_t *)p == 0;
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*zero = *(const int64_t *)p == 0;
		if (is_time(f))
			return enc_time(*(const int64_t *)p);
		return json_integer(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*zero = *(const uint64_t *)p == 0;
		/* Beyond 2^63 there is no JSON integer in jansson. */
		return json_integer(
		    (json_int_t)(*(const uint64_t *)p & (uint64_t)INT64_MAX));
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		const card_enum *t = enum_table(ed);
		const ProtobufCEnumValue *ev;

		*zero = v == 0;
		if (t != NULL && strcmp(card_enum_name(t, v), "?") != 0)
			return json_string(card_enum_name(t, v));
		ev = protobuf_c_enum_descriptor_get_value(ed, v);
		return ev != NULL ? json_string(ev->name) : json_integer(v);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;

		*zero = sub == NULL;
		return sub != NULL ? enc_msg(sub) : json_null();
	}
	default: /* bytes: none in the card */
		*zero = true;
		return json_null();
	}
}

/* "amount": the decimal text of amount_minor, for people. */
static void enc_purchase_extra(json_t *o, const Carta__V1__Purchase *p)
{
	char text[MONEY_TEXT_MAX];

	if (p->amount_minor == 0 && p->currency[0] == '\0')
		return;
	money_format(p->amount_minor, p->currency, text, sizeof text);
	json_object_set_new(o, "amount", json_string(text));
}

static json_t *enc_msg(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *desc = m->descriptor;
	const char *base = (const char *)m;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		bool zero;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n =
			    *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(char *const *)(base + f->offset);
			json_t *a = json_array();

			for (size_t k = 0; k < n; k++)
				json_array_append_new(
				    a, enc_value(f, arr + k * pbfield_size(f),
						 &zero));
			json_object_set_new(o, f->name, a);
			continue;
		}
		json_t *v = enc_value(f, base + f->offset, &zero);
		if (zero)
			json_decref(v);
		else
			json_object_set_new(o, f->name, v);
	}
	if (desc == &carta__v1__purchase__descriptor)
		enc_purchase_extra(o, (const Carta__V1__Purchase *)m);
	return o;
}

json_t *card_json_from_msg(const ProtobufCMessage *msg)
{
	return enc_msg(msg);
}

/* Which section governs each list of a card (to leave out the withheld
 * ones). */
static const struct {
	const char *field;
	int section;
} card_lists[] = {
    {"purchases", CARTA__V1__SECTION__SECTION_PURCHASES},
    {"preferences", CARTA__V1__SECTION__SECTION_PREFERENCES},
    {"interactions", CARTA__V1__SECTION__SECTION_INTERACTIONS},
    {"notes", CARTA__V1__SECTION__SECTION_NOTES},
    {"consents", CARTA__V1__SECTION__SECTION_CONSENT},
};

json_t *card_json_from_card(const Carta__V1__Card *card)
{
	json_t *o = enc_msg(&card->base);
	json_t *prefs = json_object(), *sections = json_object();

	if (o == NULL || prefs == NULL || sections == NULL) {
		json_decref(o);
		json_decref(prefs);
		json_decref(sections);
		return NULL;
	}
	for (size_t i = 0; i < card->n_preferences; i++)
		json_object_set_new(prefs, card->preferences[i]->key,
				    cli_json_str(card->preferences[i]->value));
	json_object_set_new(o, "preferences", prefs);

	for (size_t i = 0; i < card->n_sections; i++) {
		const Carta__V1__SectionVersion *sv = card->sections[i];
		json_t *s = json_object();

		json_object_set_new(s, "version",
				    json_integer((json_int_t)sv->version));
		if (sv->updated_at != 0)
			json_object_set_new(s, "updated_at",
					    enc_time(sv->updated_at));
		json_object_set_new(
		    sections,
		    card_enum_name(card_enum_sections, (int)sv->section), s);
	}
	json_object_set_new(o, "sections", sections);

	/* An empty section reads as one not given, so that the JSON of a
	 * card shown can be added again by a department that may not write
	 * the sections it left empty. */
	const ProtobufCMessage *parts[] = {
	    (const ProtobufCMessage *)card->identity,
	    (const ProtobufCMessage *)card->contact,
	    (const ProtobufCMessage *)card->demographics};
	const char *const names[] = {"identity", "contact", "demographics"};
	for (size_t i = 0; i < 3; i++)
		if (parts[i] != NULL &&
		    protobuf_c_message_get_packed_size(parts[i]) == 0)
			json_object_del(o, names[i]);

	for (size_t i = 0; i < card->n_withheld; i++)
		for (size_t k = 0; k < sizeof card_lists / sizeof card_lists[0];
		     k++)
			if ((int)card->withheld[i] == card_lists[k].section)
				json_object_del(o, card_lists[k].field);
	return o;
}

/* ---- Decoding ---------------------------------------------------------- */

/* Where we are in the document, for errors. */
typedef struct {
	char *err;
	size_t errlen;
	char path[256];
	size_t plen;
} dec;

static int dec_fail(dec *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int dec_fail(dec *d, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (d->plen > 0)
		n = snprintf(d->err, d->errlen, "%s: ", d->path);
	if (n < 0 || (size_t)n >= d->errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends ".key" or "[i]" to the path; returns the length to go back to.
 * A path too long for the buffer is cut, which only shortens errors. */
static size_t push_key(dec *d, const char *key)
{
	size_t old = d->plen;
	int n = snprintf(d->path + old, sizeof d->path - old, "%s%s",
			 old > 0 ? "." : "", key);

	d->plen = n < 0 ? old : strlen(d->path);
	return old;
}

static size_t push_index(dec *d, size_t i)
{
	size_t old = d->plen;

	snprintf(d->path + old, sizeof d->path - old, "[%zu]", i);
	d->plen = strlen(d->path);
	return old;
}

static void pop(dec *d, size_t len)
{
	d->plen = len;
	d->path[len] = '\0';
}

static int dec_msg(dec *d, json_t *v, const ProtobufCMessageDescriptor *desc,
		   ProtobufCMessage **slot);

static int dec_string(dec *d, json_t *v, char **slot)
{
	if (!json_is_string(v))
		return dec_fail(d, "expected a string");
	char *s = strdup(json_string_value(v));
	if (s == NULL)
		return dec_fail(d, "out of memory");
	*slot = s;
	return 0;
}

static int dec_int(dec *d, json_t *v, const ProtobufCFieldDescriptor *f,
		   json_int_t min, json_int_t max, json_int_t *out)
{
	if (is_time(f) && json_is_string(v)) {
		int64_t t;

		if (cli_time_parse(json_string_value(v), (int64_t)time(NULL),
				   &t) != 0)
			return dec_fail(d,
					"'%s' is not a time (2026-12-01, "
					"2026-12-01T10:00:00Z or -7d)",
					json_string_value(v));
		*out = t;
		return 0;
	}
	if (!json_is_integer(v))
		return dec_fail(d, is_time(f) ? "expected a time"
					      : "expected a whole number");
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return dec_fail(d, "%lld is out of range", (long long)*out);
	return 0;
}

/* Decodes v into the storage of one value of f at p. */
static int dec_value(dec *d, json_t *v, const ProtobufCFieldDescriptor *f,
		     void *p)
{
	json_int_t x;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return dec_string(d, v, (char **)p);
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return dec_fail(d, "expected true or false");
		*(protobuf_c_boolean *)p = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (dec_int(d, v, f, INT32_MIN, INT32_MAX, &x) != 0)
			return -1;
		*(int32_t *)p = (int32_t)x;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (dec_int(d, v, f, 0, UINT32_MAX, &x) != 0)
			return -1;
		*(uint32_t *)p = (uint32_t)x;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (dec_int(d, v, f, INT64_MIN, INT64_MAX, &x) != 0)
			return -1;
		*(int64_t *)p = (int64_t)x;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (dec_int(d, v, f, 0, INT64_MAX, &x) != 0)
			return -1;
		*(uint64_t *)p = (uint64_t)x;
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		const card_enum *t = enum_table(ed);
		const ProtobufCEnumValue *ev;
		char names[128];

		if (!json_is_string(v))
			return dec_fail(d, "expected a name");
		if (t != NULL) {
			int e = card_enum_parse(t, json_string_value(v));

			if (e < 0) {
				card_enum_list(t, names, sizeof names);
				return dec_fail(d, "'%s' is not one of %s",
						json_string_value(v), names);
			}
			*(int *)p = e;
			return 0;
		}
		ev = protobuf_c_enum_descriptor_get_value_by_name(
		    ed, json_string_value(v));
		if (ev == NULL)
			return dec_fail(d, "unknown value '%s'",
					json_string_value(v));
		*(int *)p = ev->value;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return dec_msg(d, v, f->descriptor, (ProtobufCMessage **)p);
	default:
		return dec_fail(d, "this field cannot be given in JSON");
	}
}

/* A repeated field: the array (zeroed) is attached to m at once and its
 * count grows with each value started, so that freeing m after a failure
 * frees exactly what was made. */
static int dec_repeated(dec *d, json_t *v, const ProtobufCFieldDescriptor *f,
			ProtobufCMessage *m)
{
	char *base = (char *)m;
	size_t *count = (size_t *)(base + f->quantifier_offset);
	size_t n = json_array_size(v), size = pbfield_size(f);
	char *arr;

	if (!json_is_array(v))
		return dec_fail(d, "expected an array");
	if (n == 0)
		return 0;
	arr = calloc(n, size);
	if (arr == NULL)
		return dec_fail(d, "out of memory");
	*(char **)(base + f->offset) = arr;
	for (size_t i = 0; i < n; i++) {
		size_t save = push_index(d, i);

		/* Counted first: a message half made is freed with m. */
		*count = i + 1;
		if (dec_value(d, json_array_get(v, i), f, arr + i * size) != 0)
			return -1;
		pop(d, save);
	}
	return 0;
}

static int dec_field(dec *d, json_t *v, const ProtobufCFieldDescriptor *f,
		     ProtobufCMessage *m)
{
	char *base = (char *)m;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return dec_repeated(d, v, f, m);
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		/* Keep the shared empty string until a copy is made. */
		char *s = NULL;

		if (dec_string(d, v, &s) != 0)
			return -1;
		*(char **)(base + f->offset) = s;
		return 0;
	}
	return dec_value(d, v, f, base + f->offset);
}

/* A card's "preferences" as {"key": "value"} (the array form of the
 * proto is taken by dec_field). */
static int dec_prefs(dec *d, json_t *v, Carta__V1__Card *card)
{
	size_t n = json_object_size(v), i = 0;
	const char *key;
	json_t *val;

	if (n == 0)
		return 0;
	card->preferences = calloc(n, sizeof *card->preferences);
	if (card->preferences == NULL)
		return dec_fail(d, "out of memory");
	json_object_foreach(v, key, val)
	{
		Carta__V1__Preference *p = malloc(sizeof *p);
		size_t save = push_key(d, key);

		if (p == NULL)
			return dec_fail(d, "out of memory");
		carta__v1__preference__init(p);
		card->preferences[i] = p;
		card->n_preferences = ++i;
		p->key = strdup(key);
		if (p->key == NULL)
			return dec_fail(d, "out of memory");
		if (dec_string(d, val, &p->value) != 0)
			return -1;
		pop(d, save);
	}
	return 0;
}

/* A card's "sections" as {"contact": {"version": 4, ...}}. */
static int dec_sections(dec *d, json_t *v, Carta__V1__Card *card)
{
	size_t n = json_object_size(v), i = 0;
	const char *key;
	json_t *val;

	if (n == 0)
		return 0;
	card->sections = calloc(n, sizeof *card->sections);
	if (card->sections == NULL)
		return dec_fail(d, "out of memory");
	json_object_foreach(v, key, val)
	{
		size_t save = push_key(d, key);
		int section = card_enum_parse(card_enum_sections, key);
		ProtobufCMessage *sv = NULL;

		if (section < 0)
			return dec_fail(d, "not a section");
		int rv = dec_msg(d, val,
				 &carta__v1__section_version__descriptor, &sv);
		if (sv != NULL) {
			card->sections[i] = (Carta__V1__SectionVersion *)sv;
			card->n_sections = ++i;
		}
		if (rv != 0)
			return -1;
		card->sections[i - 1]->section = (Carta__V1__Section)section;
		pop(d, save);
	}
	return 0;
}

/* A purchase's "amount" ("49.90"), once its currency is known. */
static int dec_amount(dec *d, json_t *amount, Carta__V1__Purchase *p)
{
	char why[160];
	int64_t minor;
	size_t save = push_key(d, "amount");

	if (!json_is_string(amount))
		return dec_fail(d, "expected a string like \"49.90\"");
	if (p->currency[0] == '\0')
		return dec_fail(d, "needs a currency");
	if (money_parse(json_string_value(amount), p->currency, &minor, why,
			sizeof why) != 0)
		return dec_fail(d, "%s", why);
	if (p->amount_minor != 0 && p->amount_minor != minor)
		return dec_fail(d, "does not agree with amount_minor");
	p->amount_minor = minor;
	pop(d, save);
	return 0;
}

static int dec_msg(dec *d, json_t *v, const ProtobufCMessageDescriptor *desc,
		   ProtobufCMessage **slot)
{
	ProtobufCMessage *m;
	json_t *amount = NULL, *val;
	const char *key;

	if (!json_is_object(v))
		return dec_fail(d, "expected an object");
	m = malloc(desc->sizeof_message);
	if (m == NULL)
		return dec_fail(d, "out of memory");
	desc->message_init(m);
	*slot = m;

	json_object_foreach(v, key, val)
	{
		const ProtobufCFieldDescriptor *f;
		size_t save = push_key(d, key);
		int rv;

		if (json_is_null(val)) {
			pop(d, save);
			continue;
		}
		bool card = desc == &carta__v1__card__descriptor;
		if (card && strcmp(key, "preferences") == 0 &&
		    json_is_object(val)) {
			rv = dec_prefs(d, val, (Carta__V1__Card *)m);
		} else if (card && strcmp(key, "sections") == 0 &&
			   json_is_object(val)) {
			rv = dec_sections(d, val, (Carta__V1__Card *)m);
		} else if (desc == &carta__v1__purchase__descriptor &&
			   strcmp(key, "amount") == 0) {
			amount = val;
			rv = 0;
		} else {
			f = protobuf_c_message_descriptor_get_field_by_name(
			    desc, key);
			rv = f != NULL ? dec_field(d, val, f, m)
				       : dec_fail(d, "unknown field");
		}
		if (rv != 0)
			return -1;
		pop(d, save);
	}
	if (amount != NULL)
		return dec_amount(d, amount, (Carta__V1__Purchase *)m);
	return 0;
}

int card_json_to_msg(json_t *v, const ProtobufCMessageDescriptor *desc,
		     ProtobufCMessage **out, char *err, size_t errlen)
{
	dec d = {.err = err, .errlen = errlen};
	ProtobufCMessage *m = NULL;

	if (dec_msg(&d, v, desc, &m) != 0) {
		if (m != NULL)
			protobuf_c_message_free_unpacked(m, NULL);
		*out = NULL;
		return -1;
	}
	*out = m;
	return 0;
}

int card_json_to_card(json_t *v, Carta__V1__Card **out, char *err,
		      size_t errlen)
{
	return card_json_to_msg(v, &carta__v1__card__descriptor,
				(ProtobufCMessage **)out, err, errlen);
}

static int load_done(json_t *root, const json_error_t *je, const char *path,
		     Carta__V1__Card **out, char *err, size_t errlen)
{
	char why[CLI_ERR_MAX];
	const char *pre = path != NULL ? path : "";
	const char *sep = path != NULL ? ": " : "";
	int rv;

	*out = NULL;
	if (root == NULL) {
		/* Without a line it is a file error, which names the file. */
		if (je->line <= 0)
			snprintf(err, errlen, "%s", je->text);
		else
			snprintf(err, errlen, "%s%sline %d, column %d: %s", pre,
				 sep, je->line, je->column, je->text);
		return -1;
	}
	rv = card_json_to_card(root, out, why, sizeof why);
	json_decref(root);
	if (rv != 0)
		snprintf(err, errlen, "%s%s%s", pre, sep, why);
	return rv;
}

int card_json_parse(const char *text, size_t len, Carta__V1__Card **out,
		    char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

	return load_done(root, &je, NULL, out, err, errlen);
}

int card_json_load(const char *path, Carta__V1__Card **out, char *err,
		   size_t errlen)
{
	json_error_t je;
	json_t *root;

	if (strcmp(path, "-") == 0)
		root = json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);
	else
		root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	return load_done(root, &je, path, out, err, errlen);
}
