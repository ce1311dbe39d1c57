#include "pbreflect.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "carta_error.h"
#include "pbfield.h"

#define PATH_MAX_STEPS 8

/* ---- to JSON ---------------------------------------------------------- */

/* A time field, Unix seconds: "at", or a name ending in "_at". */
static bool time_field(const ProtobufCFieldDescriptor *f)
{
	size_t n = strlen(f->name);

	return strcmp(f->name, "at") == 0 ||
	       (n > 3 && strcmp(f->name + n - 3, "_at") == 0);
}

/* Times as the JSON card writes them: 2026-12-01T10:00:00Z. */
static json_t *time_to_json(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_integer(t);
	return json_string(buf);
}

/* Enum values as the JSON card writes them: CONSENT_GRANTED is
 * "granted", SECTION_CONTACT "contact". */
static json_t *enum_to_json(const char *name)
{
	const char *u = strchr(name, '_');
	char buf[64];
	size_t i = 0;

	for (const char *c = u ? u + 1 : name; *c && i + 1 < sizeof(buf); c++)
		buf[i++] =
		    (char)((*c >= 'A' && *c <= 'Z') ? *c - 'A' + 'a' : *c);
	buf[i] = '\0';
	return json_string(buf);
}

static json_t *scalar_to_json(const ProtobufCFieldDescriptor *f, const void *p)
{
	if ((f->type == PROTOBUF_C_TYPE_INT64 ||
	     f->type == PROTOBUF_C_TYPE_SINT64) &&
	    time_field(f))
		return time_to_json(*(const int64_t *)p);
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_integer(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_integer((json_int_t) * (const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_real(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_real(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(f->descriptor,
							 *(const int *)p);
		return v ? enum_to_json(v->name)
			 : json_integer(*(const int *)p);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return json_string(s ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		char hex[2 * 64 + 1];
		size_t n = b->len < 64 ? b->len : 64;
		for (size_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", b->data[i]);
		hex[2 * n] = '\0';
		return json_string(hex);
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return pb_to_json(*(ProtobufCMessage *const *)p);
	}
	return json_null();
}

static int is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(void *const *)p == NULL;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	default: {
		static const uint8_t zero[8];
		return memcmp(p, zero, pbfield_size(f)) == 0;
	}
	}
}

json_t *pb_to_json(const ProtobufCMessage *m)
{
	json_t *o = json_object();

	if (o == NULL || m == NULL)
		return o;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = pbfield_ptr(m, f);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *pbfield_count(m, f);
			if (n == 0)
				continue;
			json_t *a = json_array();
			const char *base = *(char *const *)p;
			for (size_t k = 0; k < n; k++)
				json_array_append_new(
				    a, scalar_to_json(
					   f, base + k * pbfield_size(f)));
			json_object_set_new(o, f->name, a);
		} else if (!is_default(f, p)) {
			json_object_set_new(o, f->name, scalar_to_json(f, p));
		}
	}
	return o;
}

char *pb_to_json_text(const ProtobufCMessage *m)
{
	json_t *o = pb_to_json(m);
	if (o == NULL)
		return NULL;
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* ---- setting by path -------------------------------------------------- */

static int parse_index(const char *s, size_t *out)
{
	char *end = NULL;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 100000)
		return -1;
	*out = v;
	return 0;
}

static int parse_int(const char *s, long long min, long long max,
		     long long *out)
{
	char *end = NULL;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (s[0] == '\0' || errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Writes value into the field slot p of type f. */
static int set_scalar(const ProtobufCFieldDescriptor *f, void *p,
		      const char *value, char *err, size_t errlen)
{
	long long v = 0;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char *copy = strdup(value);
		if (copy == NULL)
			return CARTA_ENOMEM;
		char **slot = p;
		if (*slot != NULL && *slot != f->default_value &&
		    *slot != protobuf_c_empty_string)
			free(*slot);
		*slot = copy;
		return 0;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "1") == 0)
			*(protobuf_c_boolean *)p = 1;
		else if (strcmp(value, "false") == 0 ||
			 strcmp(value, "no") == 0 || strcmp(value, "0") == 0 ||
			 value[0] == '\0')
			*(protobuf_c_boolean *)p = 0;
		else
			goto bad;
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (parse_int(value, INT32_MIN, INT32_MAX, &v) != 0)
			goto bad;
		*(int32_t *)p = (int32_t)v;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (parse_int(value, 0, UINT32_MAX, &v) != 0)
			goto bad;
		*(uint32_t *)p = (uint32_t)v;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (parse_int(value, LLONG_MIN, LLONG_MAX, &v) != 0)
			goto bad;
		*(int64_t *)p = v;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (parse_int(value, 0, LLONG_MAX, &v) != 0)
			goto bad;
		*(uint64_t *)p = (uint64_t)v;
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value_by_name(ed, value);
		/* Also accept the short lower-case form: "granted" for
		 * CONSENT_GRANTED. */
		for (unsigned i = 0; ev == NULL && i < ed->n_values; i++) {
			const char *name = ed->values[i].name;
			const char *u = strrchr(name, '_');
			if (u != NULL && strcasecmp(u + 1, value) == 0)
				ev = &ed->values[i];
		}
		if (ev == NULL || ev->value == 0)
			goto bad;
		*(int *)p = ev->value;
		return 0;
	}
	default:
		snprintf(err, errlen, "this field cannot be set");
		return CARTA_EINVAL;
	}
bad:
	snprintf(err, errlen, "'%.40s' is not a valid %s", value,
		 f->type == PROTOBUF_C_TYPE_BOOL   ? "true or false"
		 : f->type == PROTOBUF_C_TYPE_ENUM ? "choice"
						   : "number");
	return CARTA_EINVAL;
}

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);
	if (m != NULL)
		d->message_init(m);
	return m;
}

/* Frees element k of a repeated field and closes the gap. */
static void remove_elem(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			size_t k)
{
	size_t *n = pbfield_count(m, f);
	char *base = *(char **)pbfield_ptr(m, f);
	size_t sz = pbfield_size(f);

	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		protobuf_c_message_free_unpacked(
		    *(ProtobufCMessage **)(base + k * sz), NULL);
	else if (f->type == PROTOBUF_C_TYPE_STRING)
		free(*(char **)(base + k * sz));
	memmove(base + k * sz, base + (k + 1) * sz, (*n - k - 1) * sz);
	(*n)--;
}

/* Appends a default element to a repeated field; returns its slot. */
static void *append_elem(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	size_t *n = pbfield_count(m, f);
	char **base = pbfield_ptr(m, f);
	size_t sz = pbfield_size(f);
	char *grown = realloc(*base, (*n + 1) * sz);

	if (grown == NULL)
		return NULL;
	*base = grown;
	void *slot = grown + *n * sz;
	memset(slot, 0, sz);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *sub = new_message(f->descriptor);
		if (sub == NULL)
			return NULL;
		*(ProtobufCMessage **)slot = sub;
	} else if (f->type == PROTOBUF_C_TYPE_STRING) {
		char *s = strdup("");
		if (s == NULL)
			return NULL;
		*(char **)slot = s;
	}
	(*n)++;
	return slot;
}

int pb_set_path(ProtobufCMessage *m, const char *path, const char *value,
		char *err, size_t errlen)
{
	char buf[256];
	char *steps[PATH_MAX_STEPS];
	size_t nsteps = 0;

	if (strlen(path) >= sizeof(buf) || path[0] == '\0') {
		snprintf(err, errlen, "empty or over-long field path");
		return CARTA_EINVAL;
	}
	strcpy(buf, path);
	/* Split on dots by hand: every step must be non-empty ("a..b",
	 * ".a" and "a." are refused, not read as "a.b" and "a"). */
	for (char *s = buf;;) {
		char *dot = strchr(s, '.');
		if (dot != NULL)
			*dot = '\0';
		if (s[0] == '\0') {
			snprintf(err, errlen, "empty step in field path");
			return CARTA_EINVAL;
		}
		if (nsteps == PATH_MAX_STEPS) {
			snprintf(err, errlen, "field path too deep");
			return CARTA_EINVAL;
		}
		steps[nsteps++] = s;
		if (dot == NULL)
			break;
		s = dot + 1;
	}

	ProtobufCMessage *cur = m;
	for (size_t i = 0; i < nsteps; i++) {
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(
			cur->descriptor, steps[i]);
		if (f == NULL) {
			snprintf(err, errlen, "unknown field '%.40s'",
				 steps[i]);
			return CARTA_EINVAL;
		}
		bool last = i + 1 == nsteps;
		void *slot = pbfield_ptr(cur, f);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t k = 0, n = *pbfield_count(cur, f);
			if (last || parse_index(steps[i + 1], &k) != 0) {
				snprintf(err, errlen,
					 "'%s' is a list: give an index, as "
					 "in %s.0",
					 f->name, f->name);
				return CARTA_EINVAL;
			}
			i++;
			last = i + 1 == nsteps;
			if (k > n) {
				snprintf(err, errlen,
					 "index %zu is past the end of %s "
					 "(%zu items; %zu appends)",
					 k, f->name, n, n);
				return CARTA_EINVAL;
			}
			if (last && value[0] == '\0' && k < n) {
				remove_elem(cur, f, k);
				return 0;
			}
			slot = k == n ? append_elem(cur, f)
				      : *(char **)slot + k * pbfield_size(f);
			if (slot == NULL)
				return CARTA_ENOMEM;
		}

		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (last) {
				snprintf(err, errlen,
					 "'%s' has fields: name one, as in "
					 "%s.FIELD",
					 f->name, path);
				return CARTA_EINVAL;
			}
			ProtobufCMessage **sub = slot;
			if (*sub == NULL) {
				*sub = new_message(f->descriptor);
				if (*sub == NULL)
					return CARTA_ENOMEM;
			}
			cur = *sub;
			continue;
		}
		if (!last) {
			snprintf(err, errlen, "'%s' has no fields", f->name);
			return CARTA_EINVAL;
		}
		return set_scalar(f, slot, value, err, errlen);
	}
	snprintf(err, errlen, "incomplete field path");
	return CARTA_EINVAL;
}

ProtobufCMessage *pb_clone(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	if (buf == NULL)
		return NULL;
	protobuf_c_message_pack(m, buf);
	ProtobufCMessage *copy =
	    protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	free(buf);
	return copy;
}

int pb_set_string(char **field, const char *t)
{
	char *copy = t == NULL || t[0] == '\0' ? (char *)protobuf_c_empty_string
					       : strdup(t);

	if (copy == NULL)
		return CARTA_ENOMEM;
	if (*field != NULL && *field != protobuf_c_empty_string)
		free(*field);
	*field = copy;
	return 0;
}

int pb_push(void ***arr, size_t *n, void *p)
{
	void **grown = realloc(*arr, (*n + 1) * sizeof(void *));

	if (grown == NULL)
		return CARTA_ENOMEM;
	grown[*n] = p;
	*arr = grown;
	(*n)++;
	return 0;
}

int pb_push_clone(void ***arr, size_t *n, const ProtobufCMessage *m)
{
	ProtobufCMessage *c = pb_clone(m);
	int rv = c != NULL ? pb_push(arr, n, c) : CARTA_ENOMEM;

	if (rv != 0 && c != NULL)
		protobuf_c_message_free_unpacked(c, NULL);
	return rv;
}
