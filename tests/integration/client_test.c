/* libcarta and the carta CLI against a real cartad: ping, refused keys,
 * revocation closing a live connection, pipelining, admin requests and
 * the connection cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "carta.h"
#include "harness.h"
#include "noise.h"
#include "rawclient.h"

static harness srv;

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	return harness_start(&srv, NULL);
}

static int teardown(void **state)
{
	(void)state;
	/* A clean stop: every handle closed, uv_loop_close returned 0. */
	return harness_stop(&srv) == 0 ? 0 : -1;
}

static carta_client *connect_as(const uint8_t *priv)
{
	carta_options opts;
	carta_client *c = NULL;

	memset(&opts, 0, sizeof(opts));
	snprintf(opts.server, sizeof(opts.server), "%s", srv.addr);
	memcpy(opts.server_key, srv.server_pub, 32);
	memcpy(opts.secret_key, priv, 32);
	int rv = carta_connect(&opts, &c);
	carta_options_wipe(&opts);
	assert_int_equal(rv, 0);
	return c;
}

static void enrol(carta_client *admin, const char *name, const char *dept,
		  uint8_t priv[32])
{
	uint8_t pub[32];
	carta_principal p;

	noise_keypair(priv, pub);
	assert_int_equal(carta_admin_enrol(admin, name, dept, 0, pub, &p), 0);
	assert_string_equal(p.name, name);
	assert_string_equal(p.department, dept);
	assert_int_equal(p.role, CARTA__V1__ROLE__ROLE_MEMBER);
	assert_int_equal(p.state, CARTA__V1__PRINCIPAL_STATE__STATE_ACTIVE);
	carta_principal_clear(&p);
}

static void test_ping_through_library(void **state)
{
	carta_server_info info;
	(void)state;

	carta_client *c = connect_as(srv.admin_priv);
	assert_int_equal(carta_ping(c, &info), 0);
	assert_string_equal(info.principal, "admin");
	assert_string_equal(info.department, "admin");
	assert_int_equal(info.role, CARTA__V1__ROLE__ROLE_ADMIN);
	assert_int_equal(info.protocol_version, 1);
	assert_string_equal(info.server_version, CARTA_VERSION);
	assert_true(info.rtt_us > 0);
	carta_close(c);
}

static void test_ping_through_cli(void **state)
{
	char cmd[3 * PATH_MAX], out[4096];
	json_error_t jerr;
	(void)state;

	snprintf(cmd, sizeof(cmd),
		 "'%s' ping --json --profile '%s' --server %s", CARTA_CLI_PATH,
		 srv.admin_profile, srv.addr);
	assert_int_equal(harness_run(cmd, out, sizeof(out)), 0);
	json_t *o = json_loads(out, 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "principal")),
			    "admin");
	assert_string_equal(json_string_value(json_object_get(o, "department")),
			    "admin");
	assert_int_equal(
	    json_integer_value(json_object_get(o, "protocol_version")), 1);
	json_decref(o);

	/* Global options after the subcommand, human output. */
	snprintf(cmd, sizeof(cmd), "'%s' ping --server %s --profile '%s'",
		 CARTA_CLI_PATH, srv.addr, srv.admin_profile);
	assert_int_equal(harness_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "admin"));
}

static void test_cli_enrol_writes_working_profile(void **state)
{
	char cmd[4 * PATH_MAX], out[4096], prof[PATH_MAX + 32];
	struct stat st;
	(void)state;

	snprintf(prof, sizeof(prof), "%s/carol.profile", srv.dir);
	snprintf(cmd, sizeof(cmd),
		 "'%s' --profile '%s' --server %s admin enrol carol "
		 "--department support --out '%s'",
		 CARTA_CLI_PATH, srv.admin_profile, srv.addr, prof);
	assert_int_equal(harness_run(cmd, out, sizeof(out)), 0);
	assert_int_equal(stat(prof, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	snprintf(cmd, sizeof(cmd),
		 "'%s' --profile '%s' --server %s ping --json", CARTA_CLI_PATH,
		 prof, srv.addr);
	assert_int_equal(harness_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"carol\""));
	assert_non_null(strstr(out, "\"support\""));

	/* A member may not enrol others: refused, non-zero exit. */
	snprintf(cmd, sizeof(cmd),
		 "'%s' --profile '%s' --server %s admin enrol mallory "
		 "--department sales --out '%s/mallory.profile' 2>&1",
		 CARTA_CLI_PATH, prof, srv.addr, srv.dir);
	assert_int_not_equal(harness_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "admin"));
}

static void test_non_enrolled_key_refused(void **state)
{
	uint8_t priv[32], pub[32];
	carta_server_info info;
	(void)state;

	noise_keypair(priv, pub);
	carta_client *c = connect_as(priv);
	assert_int_equal(carta_ping(c, &info), CARTA_EAUTH);
	assert_non_null(strstr(carta_client_errmsg(c), "not enrolled"));
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__UNAUTHENTICATED);
	carta_close(c);
}

static void test_revoke_closes_live_connection(void **state)
{
	uint8_t bob_priv[32];
	carta_server_info info;
	(void)state;

	carta_client *admin = connect_as(srv.admin_priv);
	enrol(admin, "bob", "marketing", bob_priv);

	carta_client *bob = connect_as(bob_priv);
	assert_int_equal(carta_ping(bob, &info), 0);
	assert_string_equal(info.principal, "bob");
	assert_string_equal(info.department, "marketing");

	/* bob's connection is live; revoking bob ends it at once: before
	 * the admin hears back, the server has told bob why and stopped
	 * serving him, so bob's very next request fails with the reason. */
	assert_int_equal(carta_admin_revoke(admin, "bob"), 0);
	assert_int_equal(carta_ping(bob, &info), CARTA_EAUTH);
	assert_non_null(strstr(carta_client_errmsg(bob), "revoked"));
	carta_close(bob);

	/* And bob's key is refused from then on. */
	bob = connect_as(bob_priv);
	assert_int_equal(carta_ping(bob, &info), CARTA_EAUTH);
	assert_non_null(strstr(carta_client_errmsg(bob), "revoked"));
	carta_close(bob);

	/* The admin's own connection is untouched. */
	assert_int_equal(carta_ping(admin, &info), 0);
	carta_close(admin);
}

static void test_200_pipelined_pings(void **state)
{
	enum { N = 200 };
	static uint64_t ids[N];
	static int seen[N];
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Ping ping = CARTA__V1__PING__INIT;
	uint8_t echo[8];
	(void)state;

	carta_client *c = connect_as(srv.admin_priv);
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	ping.echo.data = echo;
	ping.echo.len = sizeof(echo);
	/* All 200 go out before any answer is read: more than the server's
	 * per-connection in-flight bound, so its backpressure is used. */
	for (int i = 0; i < N; i++) {
		memcpy(echo, &i, sizeof(i));
		memset(echo + sizeof(i), 0, sizeof(echo) - sizeof(i));
		assert_int_equal(carta_send(c, &req, &ids[i]), 0);
		assert_true(ids[i] != 0);
		for (int j = 0; j < i; j++)
			assert_true(ids[j] != ids[i]);
	}
	memset(seen, 0, sizeof(seen));
	for (int n = 0; n < N; n++) {
		Carta__V1__Response *resp = NULL;
		assert_int_equal(carta_recv(c, &resp), 0);
		assert_int_equal(carta_response_check(c, resp), 0);
		assert_int_equal(resp->body_case,
				 CARTA__V1__RESPONSE__BODY_PONG);
		int which = -1;
		for (int i = 0; i < N; i++)
			if (ids[i] == resp->id)
				which = i;
		assert_true(which >= 0);
		assert_int_equal(seen[which], 0);
		seen[which] = 1;
		/* Each answer carries its own request's echo. */
		int got;
		assert_int_equal(resp->pong->echo.len, sizeof(echo));
		memcpy(&got, resp->pong->echo.data, sizeof(got));
		assert_int_equal(got, which);
		carta__v1__response__free_unpacked(resp, NULL);
	}
	carta_close(c);
}

static void test_admin_requests_validated(void **state)
{
	uint8_t priv[32], pub[32];
	carta_principal *list = NULL;
	size_t n = 0;
	(void)state;

	carta_client *c = connect_as(srv.admin_priv);
	noise_keypair(priv, pub);
	assert_int_equal(carta_admin_enrol(c, "dave", "nowhere", 0, pub, NULL),
			 CARTA_ESTATUS);
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__NOT_FOUND);
	assert_string_equal(carta_client_errfield(c), "enrol.department");

	assert_int_equal(
	    carta_admin_enrol(c, "bad name!", "sales", 0, pub, NULL),
	    CARTA_ESTATUS);
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__INVALID_ARGUMENT);
	assert_string_equal(carta_client_errfield(c), "enrol.name");

	/* Neither a name nor a key can be enrolled twice. */
	assert_int_equal(carta_admin_enrol(c, "dave", "sales", 0, pub, NULL),
			 0);
	assert_int_equal(carta_admin_enrol(c, "dave2", "sales", 0, pub, NULL),
			 CARTA_ESTATUS);
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__ALREADY_EXISTS);
	assert_string_equal(carta_client_errfield(c), "enrol.public_key");
	uint8_t other_priv[32], other_pub[32];
	noise_keypair(other_priv, other_pub);
	assert_int_equal(
	    carta_admin_enrol(c, "dave", "sales", 0, other_pub, NULL),
	    CARTA_ESTATUS);
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__ALREADY_EXISTS);
	assert_string_equal(carta_client_errfield(c), "enrol.name");

	assert_int_equal(carta_admin_revoke(c, "nobody"), CARTA_ESTATUS);
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__NOT_FOUND);

	assert_int_equal(carta_admin_principals(c, &list, &n), 0);
	int found_admin = 0, found_dave = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, "admin") == 0)
			found_admin =
			    list[i].role == CARTA__V1__ROLE__ROLE_ADMIN;
		if (strcmp(list[i].name, "dave") == 0)
			found_dave = memcmp(list[i].public_key, pub, 32) == 0;
	}
	assert_true(found_admin);
	assert_true(found_dave);
	carta_principals_free(list, n);
	carta_close(c);
}

static void test_many_principals_stream(void **state)
{
	uint8_t priv[32], pub[32];
	char name[32];
	carta_principal *list = NULL;
	size_t n = 0;
	(void)state;

	/* More than one streamed page (200 a page). */
	carta_client *c = connect_as(srv.admin_priv);
	for (int i = 0; i < 450; i++) {
		noise_keypair(priv, pub);
		snprintf(name, sizeof(name), "bulk-%03d", i);
		assert_int_equal(
		    carta_admin_enrol(c, name, "billing", 0, pub, NULL), 0);
	}
	assert_int_equal(carta_admin_principals(c, &list, &n), 0);
	size_t bulk = 0;
	for (size_t i = 0; i < n; i++)
		bulk += strncmp(list[i].name, "bulk-", 5) == 0;
	assert_int_equal(bulk, 450);
	carta_principals_free(list, n);
	carta_close(c);
}

static void test_connection_cap(void **state)
{
	harness small;
	rawclient a, b;
	(void)state;

	assert_int_equal(harness_start(&small, "max_connections = 2\n"), 0);
	assert_int_equal(
	    raw_handshake(&a, &small, small.admin_priv, small.server_pub), 0);
	assert_int_equal(
	    raw_handshake(&b, &small, small.admin_priv, small.server_pub), 0);
	/* The third is accepted and closed at once, before any handshake. */
	int fd = harness_connect_raw(&small);
	assert_true(fd >= 0);
	assert_int_equal(harness_wait_closed(fd, 2000), 1);
	close(fd);

	/* Once one leaves, a new client is served. */
	raw_close(&a);
	usleep(100000);
	assert_int_equal(
	    raw_handshake(&a, &small, small.admin_priv, small.server_pub), 0);
	raw_close(&a);
	raw_close(&b);
	assert_int_equal(harness_stop(&small), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ping_through_library),
	    cmocka_unit_test(test_ping_through_cli),
	    cmocka_unit_test(test_cli_enrol_writes_working_profile),
	    cmocka_unit_test(test_non_enrolled_key_refused),
	    cmocka_unit_test(test_revoke_closes_live_connection),
	    cmocka_unit_test(test_200_pipelined_pings),
	    cmocka_unit_test(test_admin_requests_validated),
	    cmocka_unit_test(test_many_principals_stream),
	    cmocka_unit_test(test_connection_cap),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
