/* The admin requests as dispatch_request answers them against a real
 * store: a revocation never leaves the store without an active admin, an
 * admin never revokes itself, and each revocation that commits is
 * counted. The last-admin case cannot be reached over the wire (the
 * caller is itself an active admin, and a revoked caller is stopped
 * before dispatch), so it is asked here with a caller the store no
 * longer has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carta.pb-c.h"
#include "dispatch.h"
#include "log.h"
#include "noise.h"
#include "store.h"

static char dir[64];
static store *db;
static _Atomic uint64_t revocations;
static uint8_t server_pub[32];
static dispatch_env env;

static int setup(void **state)
{
	char path[PATH_MAX];
	uint8_t priv[32];
	(void)state;

	if (sodium_init() < 0)
		return -1;
	log_set_level(LOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/carta-dispatch-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/carta.db", dir);
	if (store_open(path, 1, &db) != 0 ||
	    store_department_add(db, "admin") != 0)
		return -1;
	noise_keypair(priv, server_pub);
	env.db = db;
	env.region = "ES";
	env.server_pub = server_pub;
	env.revocations = &revocations;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;

	store_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void add_admin(const char *name, store_principal *out)
{
	store_actor who = {"test", "admin", 0};
	uint8_t priv[32], pub[32];

	noise_keypair(priv, pub);
	assert_int_equal(store_principal_add(db, &who, name, "admin",
					     STORE_ROLE_ADMIN, pub, out),
			 0);
}

/* Asks caller to revoke name; returns the single response (the caller
 * frees it). */
static Carta__V1__Response *ask_revoke(const store_principal *caller,
				       const char *name)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__RevokeRequest r = CARTA__V1__REVOKE_REQUEST__INIT;
	dispatch_out out = {0};

	r.name = (char *)name;
	req.id = 5;
	req.body_case = CARTA__V1__REQUEST__BODY_REVOKE;
	req.revoke = &r;
	dispatch_request(&env, caller, &req, &out);
	assert_int_equal(out.n, 1);
	Carta__V1__Response *resp = carta__v1__response__unpack(
	    NULL, out.msgs[0].len, out.msgs[0].data);
	dispatch_out_free(&out);
	assert_non_null(resp);
	assert_int_equal(resp->id, 5);
	return resp;
}

static void assert_refused(Carta__V1__Response *resp, const char *why)
{
	assert_int_equal(resp->status->code,
			 CARTA__V1__STATUS__CODE__FAILED_PRECONDITION);
	assert_string_equal(resp->status->field, "revoke.name");
	assert_non_null(strstr(resp->status->message, why));
	carta__v1__response__free_unpacked(resp, NULL);
}

static void test_revocations_keep_an_active_admin(void **state)
{
	store_principal root, ops, p;
	(void)state;

	add_admin("root", &root);
	add_admin("ops", &ops);

	/* Not oneself, even with another admin left. */
	assert_refused(ask_revoke(&root, "root"), "your own key");
	assert_int_equal(atomic_load(&revocations), 0);

	/* One of two admins may go; the revocation is counted. */
	Carta__V1__Response *resp = ask_revoke(&root, "ops");
	assert_int_equal(resp->status->code, CARTA__V1__STATUS__CODE__OK);
	assert_int_equal(resp->principal->state,
			 CARTA__V1__PRINCIPAL_STATE__STATE_REVOKED);
	carta__v1__response__free_unpacked(resp, NULL);
	assert_int_equal(atomic_load(&revocations), 1);

	/* The last one may not, whoever asks: here ops, revoked a moment
	 * ago, whose request was already under way. */
	assert_refused(ask_revoke(&ops, "root"), "last active admin");
	assert_int_equal(atomic_load(&revocations), 1);
	assert_int_equal(store_principal_by_name(db, "root", &p), 0);
	assert_int_equal(p.state, STORE_STATE_ACTIVE);

	/* An unknown name is still just not found. */
	resp = ask_revoke(&root, "nobody");
	assert_int_equal(resp->status->code,
			 CARTA__V1__STATUS__CODE__NOT_FOUND);
	carta__v1__response__free_unpacked(resp, NULL);
	assert_int_equal(atomic_load(&revocations), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_revocations_keep_an_active_admin),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
