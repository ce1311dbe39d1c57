/* Folding for search: case, accents, letters without a decomposition,
 * compatibility forms, white space; NFC and NFD fold alike; the collation
 * names of a vCard test file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carta_error.h"
#include "fold.h"

static void check(const char *in, const char *want)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(fold_text(in, strlen(in), &out, &len), 0);
	if (strcmp(out, want) != 0)
		fail_msg("fold(%s) = %s, want %s", in, out, want);
	assert_int_equal(len, strlen(want));
	free(out);
}

static void test_case_and_accents(void **state)
{
	(void)state;
	check("José", "jose");
	check("jose", "jose");
	check("JOSÉ", "jose");
	check("Muñoz", "munoz");
	check("MUÑOZ", "munoz");
	check("Ça va", "ca va");
	check("çà", "ca");
	check("Müller", "muller");
	check("über", "uber");
	check("Straße", "strasse");
	check("STRASSE", "strasse");
	check("ẞ", "ss");
}

static void test_letters_without_marks(void **state)
{
	(void)state;
	check("Øster", "oster");
	check("øre", "ore");
	check("Đorđe", "dorde");
	check("Łukasz Wałęsa", "lukasz walesa");
	check("Æsir", "aesir");
	check("Œuvre", "oeuvre");
	check("Þór", "thor");
	check("Iıİ", "iii");
}

static void test_nfc_and_nfd_fold_alike(void **state)
{
	(void)state;
	check("Jose\xcc\x81", "jose");	 /* e + combining acute */
	check("Mun\xcc\x83oz", "munoz"); /* n + combining tilde */
	check("C\xcc\xa7", "c");	 /* C + combining cedilla */
	check("u\xcc\x88"
	      "ber",
	      "uber");
}

static void test_compat_and_space(void **state)
{
	(void)state;
	check("Ｊｏｓｅ", "jose"); /* full-width */
	check("ﬁn", "fin");
	check("  Ana \t  María\n", "ana maria");
	check("a\xc2\xa0"
	      "b",
	      "a b"); /* no-break space */
	check("", "");
	check("O'Brien-Smith", "o'brien-smith");
	check("jose.garcia@Example.COM", "jose.garcia@example.com");
}

static void test_invalid_utf8(void **state)
{
	char *out = (char *)1;
	(void)state;

	assert_int_equal(fold_text("a\xff", 2, &out, NULL), CARTA_EINVAL);
	assert_null(out);
	assert_int_equal(fold_text("\xc3", 1, &out, NULL), CARTA_EINVAL);
}

static void test_digits_and_phone_keys(void **state)
{
	char out[64];
	(void)state;

	assert_int_equal(fold_digits("+34 612-34.56(78)", out, sizeof(out)),
			 11);
	assert_string_equal(out, "34612345678");
	assert_int_equal(fold_digits("12345", out, 3), 5);
	assert_string_equal(out, "12");
	fold_phone_key("+34 612 34 56 78", out, sizeof(out));
	assert_string_equal(out, "87654321643");
	fold_phone_key("0034-612-345-678", out, sizeof(out));
	assert_string_equal(out, "87654321643");
	fold_phone_key("612345678", out, sizeof(out));
	assert_string_equal(out, "876543216");
	fold_phone_key("020 7183 8750", out, sizeof(out));
	assert_string_equal(out, "0578381702");
	assert_int_equal(fold_phone_key("abc", out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

/* The family names of a vCard collation test file, and what they fold
 * to: variants of one name meet, distinct names stay apart. */
static void test_collation_names(void **state)
{
	static const char *const want[] = {
	    "bad",	   "bad",	 "bat",	    "bat",	  "bad",
	    "bad",	   "bat",	 "bat",	    "cote",	  "c",
	    "cote",	   "cote",	 "cote",    "black-bird", "blackbird",
	    "black-birds", "blackbirds", "muffler", "muller"};
	char path[4096], line[512];
	size_t n = 0;
	(void)state;

	snprintf(path, sizeof(path), "%s",
		 CARTA_SOURCE_DIR "/../shared/data/vcard/eds-sorted-1-20.vcf");
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		printf("SKIP: %s is absent\n", path);
		skip();
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "N:", 2) != 0)
			continue;
		char *semi = strchr(line, ';');
		if (semi == NULL)
			continue;
		*semi = '\0';
		assert_true(n < sizeof(want) / sizeof(want[0]));
		check(line + 2, want[n]);
		/* Folding twice changes nothing. */
		check(want[n], want[n]);
		n++;
	}
	fclose(f);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_case_and_accents),
	    cmocka_unit_test(test_letters_without_marks),
	    cmocka_unit_test(test_nfc_and_nfd_fold_alike),
	    cmocka_unit_test(test_compat_and_space),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_digits_and_phone_keys),
	    cmocka_unit_test(test_collation_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
