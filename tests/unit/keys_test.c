/* Key text forms, key files and profiles: round trips, permission checks
 * and errors that name the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "carta_error.h"
#include "keys.h"
#include "noise.h"
#include "profile.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/carta-keys-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void write_plain(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_base64_round_trip(void **state)
{
	uint8_t key[KEY_LEN], back[KEY_LEN];
	char text[KEY_B64_SIZE], padded[KEY_B64_SIZE + 8];
	(void)state;

	for (int i = 0; i < KEY_LEN; i++)
		key[i] = (uint8_t)(i * 7 + 3);
	key_to_base64(key, text);
	assert_int_equal(strlen(text), 44);
	assert_int_equal(key_from_base64(text, back), 0);
	assert_memory_equal(key, back, KEY_LEN);

	snprintf(padded, sizeof(padded), "  %s\n", text);
	assert_int_equal(key_from_base64(padded, back), 0);
	assert_memory_equal(key, back, KEY_LEN);
}

static void test_base64_rejects_bad_text(void **state)
{
	uint8_t key[KEY_LEN];
	(void)state;

	assert_int_equal(key_from_base64("", key), CARTA_EINVAL);
	assert_int_equal(key_from_base64("abc", key), CARTA_EINVAL);
	/* 44 characters, but not base64. */
	assert_int_equal(
	    key_from_base64("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=",
			    key),
	    CARTA_EINVAL);
	/* 32 bytes of key need 43 characters and one '=' of padding. */
	assert_int_equal(
	    key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			    key),
	    CARTA_EINVAL);
}

static void test_fingerprint_shape_and_stability(void **state)
{
	uint8_t a[KEY_LEN] = {0}, b[KEY_LEN] = {0};
	char fa[KEY_FP_SIZE], fa2[KEY_FP_SIZE], fb[KEY_FP_SIZE];
	(void)state;

	b[31] = 1;
	key_fingerprint(a, fa);
	key_fingerprint(a, fa2);
	key_fingerprint(b, fb);
	assert_int_equal(strlen(fa), 19);
	assert_true(fa[4] == ':' && fa[9] == ':' && fa[14] == ':');
	assert_string_equal(fa, fa2);
	assert_string_not_equal(fa, fb);
}

static void test_keyfile_round_trip_and_mode(void **state)
{
	uint8_t priv[KEY_LEN], pub[KEY_LEN], rpriv[KEY_LEN], rpub[KEY_LEN];
	char path[128], err[256];
	struct stat st;
	(void)state;

	path_of(path, sizeof(path), "k1");
	noise_keypair(priv, pub);
	assert_int_equal(keyfile_write(path, priv), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keyfile_read(path, rpriv, rpub, err, sizeof(err)), 0);
	assert_memory_equal(priv, rpriv, KEY_LEN);
	assert_memory_equal(pub, rpub, KEY_LEN);

	/* Never overwrites. */
	assert_int_equal(keyfile_write(path, priv), CARTA_EEXIST);
}

static void test_keyfile_refused_when_readable_by_others(void **state)
{
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	char path[128], err[256];
	(void)state;

	path_of(path, sizeof(path), "k2");
	noise_keypair(priv, pub);
	assert_int_equal(keyfile_write(path, priv), 0);
	chmod(path, 0644);
	assert_int_equal(keyfile_read(path, priv, pub, err, sizeof(err)),
			 CARTA_EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	chmod(path, 0640);
	assert_int_equal(keyfile_read(path, priv, pub, err, sizeof(err)),
			 CARTA_EPERM);
	chmod(path, 0600);
	assert_int_equal(keyfile_read(path, priv, pub, err, sizeof(err)), 0);
}

static void test_keyfile_errors_name_the_line(void **state)
{
	uint8_t priv[KEY_LEN], pub[KEY_LEN], other[KEY_LEN], opub[KEY_LEN];
	char path[128], err[256], text[512], sb[KEY_B64_SIZE], pb[KEY_B64_SIZE];
	(void)state;

	path_of(path, sizeof(path), "k3");
	write_plain(path, "[key]\nsecret = nope\n", 0600);
	assert_int_equal(keyfile_read(path, priv, pub, err, sizeof(err)),
			 CARTA_EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "secret"));

	/* A public key that does not belong to the secret key. */
	noise_keypair(priv, pub);
	noise_keypair(other, opub);
	key_to_base64(priv, sb);
	key_to_base64(opub, pb);
	snprintf(text, sizeof(text), "[key]\nsecret = %s\npublic = %s\n", sb,
		 pb);
	path_of(path, sizeof(path), "k4");
	write_plain(path, text, 0600);
	assert_int_equal(keyfile_read(path, priv, pub, err, sizeof(err)),
			 CARTA_EINVAL);
	assert_non_null(strstr(err, "does not belong"));
}

static void test_profile_round_trip(void **state)
{
	profile p, q;
	char path[128], err[256];
	struct stat st;
	(void)state;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "alice");
	snprintf(p.server, sizeof(p.server), "10.1.2.3:7420");
	noise_keypair(p.secret_key, p.server_key);
	p.has_server = p.has_server_key = p.has_secret_key = true;
	path_of(path, sizeof(path), "alice.profile");
	assert_int_equal(profile_write(path, &p), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(profile_read(path, &q, err, sizeof(err)), 0);
	assert_string_equal(q.name, "alice");
	assert_string_equal(q.server, "10.1.2.3:7420");
	assert_memory_equal(q.server_key, p.server_key, KEY_LEN);
	assert_memory_equal(q.secret_key, p.secret_key, KEY_LEN);

	chmod(path, 0604);
	assert_int_equal(profile_read(path, &q, err, sizeof(err)), CARTA_EPERM);
	profile_wipe(&p);
	profile_wipe(&q);
}

static void test_profile_errors(void **state)
{
	profile p;
	char err[256];
	(void)state;

	assert_int_equal(profile_parse("[profile]\nname = a\nserver_key = x\n",
				       &p, err, sizeof(err)),
			 CARTA_EINVAL);
	assert_non_null(strstr(err, "line 3"));
	assert_non_null(strstr(err, "server_key"));

	assert_int_equal(
	    profile_parse("[profile]\ncolour = blue\n", &p, err, sizeof(err)),
	    CARTA_EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "colour"));

	assert_int_equal(
	    profile_parse("[other]\nname = a\n", &p, err, sizeof(err)),
	    CARTA_EINVAL);
	assert_non_null(strstr(err, "section"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_round_trip),
	    cmocka_unit_test(test_base64_rejects_bad_text),
	    cmocka_unit_test(test_fingerprint_shape_and_stability),
	    cmocka_unit_test(test_keyfile_round_trip_and_mode),
	    cmocka_unit_test(test_keyfile_refused_when_readable_by_others),
	    cmocka_unit_test(test_keyfile_errors_name_the_line),
	    cmocka_unit_test(test_profile_round_trip),
	    cmocka_unit_test(test_profile_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
