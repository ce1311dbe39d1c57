/* The policy module alone: every request kind has a rule, the default
 * table is the README's, and filtering a card leaves nothing unreadable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "card.h"
#include "carta.pb-c.h"
#include "policy.h"

/* A request kind added to carta.proto without a rule in policy.c would
 * be refused to everybody: this test names it instead. */
static void test_every_request_kind_has_a_rule(void **state)
{
	const ProtobufCMessageDescriptor *d = &carta__v1__request__descriptor;
	(void)state;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->quantifier_offset == 0 ||
		    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
			continue;
		Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
		req.body_case = (Carta__V1__Request__BodyCase)f->id;
		/* Sub-messages the rules look into. */
		Carta__V1__CustomerAddRequest add =
		    CARTA__V1__CUSTOMER_ADD_REQUEST__INIT;
		Carta__V1__CustomerEditRequest edit =
		    CARTA__V1__CUSTOMER_EDIT_REQUEST__INIT;
		Carta__V1__ImportRequest import =
		    CARTA__V1__IMPORT_REQUEST__INIT;
		Carta__V1__VerifyConfirmRequest confirm =
		    CARTA__V1__VERIFY_CONFIRM_REQUEST__INIT;
		req.customer_add = &add;
		if (f->id == CARTA__V1__REQUEST__BODY_CUSTOMER_EDIT)
			req.customer_edit = &edit;
		if (f->id == CARTA__V1__REQUEST__BODY_IMPORT)
			req.import = &import;
		if (f->id == CARTA__V1__REQUEST__BODY_VERIFY_CONFIRM)
			req.verify_confirm = &confirm;
		policy_needs n = policy_needs_of(&req, 0);
		print_message("%-18s %s\n", f->name,
			      n.known ? "has a rule" : "NO RULE");
		assert_true(n.known);
	}
}

static void test_unknown_kind_is_refused_even_to_admins(void **state)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	policy_view admin = {.admin = true};
	const char *why = NULL;
	int section = 0;
	(void)state;

	req.body_case = (Carta__V1__Request__BodyCase)9999;
	policy_needs n = policy_needs_of(&req, 0);
	assert_false(n.known);
	assert_int_not_equal(policy_check(&admin, &n, &why, &section), 0);
}

static void test_default_table(void **state)
{
	/* Rows: sections 1..8; columns: sales, support, marketing, billing. */
	static const char *const table[9] = {NULL,   "WWRR", "WWRW",
					     "RRRN", "WRNW", "WRWN",
					     "WWRR", "WWNN", "RWWR"};
	static const char *const depts[4] = {"sales", "support", "marketing",
					     "billing"};
	(void)state;

	for (int s = 1; s < 9; s++)
		for (int d = 0; d < 4; d++) {
			int want = table[s][d] == 'W'	? 2
				   : table[s][d] == 'R' ? 1
							: 0;
			assert_int_equal(policy_default_access(depts[d], s),
					 want);
		}
	assert_int_equal(policy_default_access("admin", 1), 0);
	assert_int_equal(policy_default_access("sales", 0), 0);
	assert_int_equal(policy_default_access("sales", 9), 0);
}

static char *dup(const char *s)
{
	char *c = strdup(s);
	assert_non_null(c);
	return c;
}

static void test_filter_removes_unreadable_sections(void **state)
{
	Carta__V1__Card *c = malloc(sizeof(*c));
	policy_view view = {0};
	(void)state;

	carta__v1__card__init(c);
	c->identity = malloc(sizeof(*c->identity));
	carta__v1__identity__init(c->identity);
	c->identity->number = dup("C-000007");
	c->identity->given_name = dup("Ana");
	c->demographics = malloc(sizeof(*c->demographics));
	carta__v1__demographics__init(c->demographics);
	c->demographics->birth_date = dup("1980-01-01");
	c->n_custom = 2;
	c->custom = malloc(2 * sizeof(*c->custom));
	for (int i = 0; i < 2; i++) {
		c->custom[i] = malloc(sizeof(**c->custom));
		carta__v1__custom_value__init(c->custom[i]);
		c->custom[i]->field = dup(i ? "shoe_size" : "vip");
		c->custom[i]->value = dup("x");
	}
	c->custom[0]->section = CARTA__V1__SECTION__SECTION_IDENTITY;
	c->custom[1]->section = CARTA__V1__SECTION__SECTION_DEMOGRAPHICS;

	/* Demographics readable, identity not. */
	view.access[CARTA__V1__SECTION__SECTION_DEMOGRAPHICS] =
	    CARTA__V1__ACCESS__ACCESS_READ;
	assert_int_equal(policy_filter_card(&view, c), 0);
	assert_string_equal(c->identity->number, "C-000007");
	assert_string_equal(c->identity->given_name, "");
	assert_string_equal(c->demographics->birth_date, "1980-01-01");
	assert_int_equal(c->n_custom, 1);
	assert_string_equal(c->custom[0]->field, "shoe_size");
	assert_int_equal(c->n_withheld, 7);
	for (size_t i = 0; i < c->n_withheld; i++)
		assert_int_not_equal(c->withheld[i],
				     CARTA__V1__SECTION__SECTION_DEMOGRAPHICS);
	carta__v1__card__free_unpacked(c, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_request_kind_has_a_rule),
	    cmocka_unit_test(test_unknown_kind_is_refused_even_to_admins),
	    cmocka_unit_test(test_default_table),
	    cmocka_unit_test(test_filter_removes_unreadable_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
