/* libcarta and the carta CLI against a real cartad: ping, refused keys,
 * revocation closing a live connection and stopping queued requests,
 * pipelining, admin requests and their refusals, what the log says about
 * them, the connection cap and cartad's own arguments. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "carta.h"
#include "frame.h"
#include "harness.h"
#include "keys.h"
#include "noise.h"
#include "rawclient.h"
#include "secure.h"

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

static carta_client *connect_to(const harness *h, const uint8_t *priv)
{
	carta_options opts;
	carta_client *c = NULL;

	memset(&opts, 0, sizeof(opts));
	snprintf(opts.server, sizeof(opts.server), "%s", h->addr);
	memcpy(opts.server_key, h->server_pub, 32);
	memcpy(opts.secret_key, priv, 32);
	int rv = carta_connect(&opts, &c);
	carta_options_wipe(&opts);
	assert_int_equal(rv, 0);
	return c;
}

static carta_client *connect_as(const uint8_t *priv)
{
	return connect_to(&srv, priv);
}

/* How many principals whose name starts with prefix are active (or, when
 * any_state, exist at all). */
static size_t count_principals(carta_client *admin, const char *prefix,
			       bool any_state)
{
	carta_principal *list = NULL;
	size_t n = 0, found = 0;

	assert_int_equal(carta_admin_principals(admin, &list, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i].name, prefix, strlen(prefix)) == 0 &&
		    (any_state ||
		     list[i].state == CARTA__V1__PRINCIPAL_STATE__STATE_ACTIVE))
			found++;
	carta_principals_free(list, n);
	return found;
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

	/* Neither a name (whatever its case) nor a key is enrolled twice. */
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
	    carta_admin_enrol(c, "DAVE", "sales", 0, other_pub, NULL),
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

	assert_int_equal(harness_start(&small, "max_connections = 2\n"
					       "admin_reserve = 0\n"),
			 0);
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

/* One principal cannot hold every connection, and the last ones are
 * kept for admins: a full server can still be administered. */
static void test_principal_cap_and_admin_reserve(void **state)
{
	harness h;
	carta_client *bob[3], *eve[2], *admin, *root;
	uint8_t bob_priv[32], eve_priv[32];
	carta_server_info info;
	(void)state;

	assert_int_equal(harness_start(&h,
				       "max_connections = 3\n"
				       "admin_reserve = 1\n"
				       "max_connections_per_principal = 2\n"),
			 0);
	root = connect_to(&h, h.admin_priv);
	enrol(root, "bob", "sales", bob_priv);
	enrol(root, "eve", "marketing", eve_priv);
	carta_close(root);
	usleep(100000);

	/* Bob's third connection is refused; his two go on. */
	bob[0] = connect_to(&h, bob_priv);
	bob[1] = connect_to(&h, bob_priv);
	assert_int_equal(carta_ping(bob[0], &info), 0);
	assert_int_equal(carta_ping(bob[1], &info), 0);
	bob[2] = connect_to(&h, bob_priv);
	assert_int_not_equal(carta_ping(bob[2], &info), 0);
	assert_non_null(strstr(carta_client_errmsg(bob[2]),
			       "as many connections open as it may"));
	carta_close(bob[2]);
	assert_int_equal(carta_ping(bob[1], &info), 0);

	/* Eve takes the last ordinary place; a fourth member is told the
	 * server is full, while an admin still gets in. */
	eve[0] = connect_to(&h, eve_priv);
	assert_int_equal(carta_ping(eve[0], &info), 0);
	eve[1] = connect_to(&h, eve_priv);
	assert_int_not_equal(carta_ping(eve[1], &info), 0);
	assert_non_null(
	    strstr(carta_client_errmsg(eve[1]), "only admins are served now"));
	carta_close(eve[1]);
	usleep(100000);
	admin = connect_to(&h, h.admin_priv);
	assert_int_equal(carta_ping(admin, &info), 0);

	carta_close(admin);
	carta_close(eve[0]);
	carta_close(bob[0]);
	carta_close(bob[1]);
	assert_int_equal(harness_stop(&h), 0);
}

static void test_enrol_refuses_unusable_keys(void **state)
{
	/* Points of small order (X25519 with them gives all zeros), and
	 * the server's own key: none may be a principal's key. */
	static const uint8_t low_order[][32] = {
	    {0},
	    {1},
	    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	};
	(void)state;

	carta_client *c = connect_as(srv.admin_priv);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		assert_int_equal(
		    carta_admin_enrol(c, "eve", "sales", 0, low_order[i], NULL),
		    CARTA_ESTATUS);
		assert_int_equal(carta_client_status(c),
				 CARTA__V1__STATUS__CODE__INVALID_ARGUMENT);
		assert_string_equal(carta_client_errfield(c),
				    "enrol.public_key");
		assert_non_null(strstr(carta_client_errmsg(c), "small order"));
	}
	assert_int_equal(
	    carta_admin_enrol(c, "eve", "sales", 0, srv.server_pub, NULL),
	    CARTA_ESTATUS);
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__INVALID_ARGUMENT);
	assert_string_equal(carta_client_errfield(c), "enrol.public_key");
	assert_non_null(strstr(carta_client_errmsg(c), "server's own key"));
	/* Nothing was enrolled; a good key still is. */
	assert_int_equal(count_principals(c, "eve", true), 0);
	uint8_t priv[32];
	enrol(c, "eve", "sales", priv);
	carta_close(c);
}

static void test_admin_cannot_revoke_itself(void **state)
{
	carta_server_info info;
	(void)state;

	carta_client *c = connect_as(srv.admin_priv);
	assert_int_equal(carta_admin_revoke(c, "admin"), CARTA_ESTATUS);
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__FAILED_PRECONDITION);
	assert_string_equal(carta_client_errfield(c), "revoke.name");
	assert_non_null(strstr(carta_client_errmsg(c), "your own key"));
	/* Still an admin, still served. */
	assert_int_equal(carta_ping(c, &info), 0);
	assert_int_equal(info.role, CARTA__V1__ROLE__ROLE_ADMIN);
	assert_int_equal(count_principals(c, "admin", false), 1);
	carta_close(c);
}

/* Two admins, each revoking the other at the same moment: one wins, and
 * the other's request is refused (it was revoked first), so an active
 * admin always remains. */
static void test_two_admins_revoking_each_other(void **state)
{
	harness h;
	uint8_t priv2[32], pub2[32];
	rawclient a, b;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__RevokeRequest revoke = CARTA__V1__REVOKE_REQUEST__INIT;
	carta_server_info info;
	(void)state;

	assert_int_equal(harness_start(&h, NULL), 0);
	carta_client *c = connect_to(&h, h.admin_priv);
	noise_keypair(priv2, pub2);
	assert_int_equal(carta_admin_enrol(c, "admin2", "admin",
					   CARTA__V1__ROLE__ROLE_ADMIN, pub2,
					   NULL),
			 0);
	carta_close(c);

	assert_int_equal(raw_handshake(&a, &h, h.admin_priv, h.server_pub), 0);
	assert_int_equal(raw_handshake(&b, &h, priv2, h.server_pub), 0);
	req.body_case = CARTA__V1__REQUEST__BODY_REVOKE;
	req.revoke = &revoke;
	req.id = 1;
	revoke.name = "admin2";
	assert_int_equal(raw_send_request(&a, &req), 0);
	revoke.name = "admin";
	assert_int_equal(raw_send_request(&b, &req), 0);

	int ok = 0;
	rawclient *both[2] = {&a, &b};
	for (int i = 0; i < 2; i++) {
		Carta__V1__Response *resp = raw_recv_response(both[i], 5000);
		/* The loser may hear only that its key was revoked (id 0). */
		if (resp != NULL && resp->id == 1) {
			if (resp->status->code == CARTA__V1__STATUS__CODE__OK)
				ok++;
			else
				assert_true(
				    resp->status->code ==
					CARTA__V1__STATUS__CODE__UNAUTHENTICATED ||
				    resp->status->code ==
					CARTA__V1__STATUS__CODE__FAILED_PRECONDITION);
		}
		if (resp != NULL)
			carta__v1__response__free_unpacked(resp, NULL);
	}
	raw_close(&a);
	raw_close(&b);
	assert_int_equal(ok, 1);

	/* Whichever admin is left is served, and is the only active one. */
	c = connect_to(&h, h.admin_priv);
	if (carta_ping(c, &info) != 0) {
		carta_close(c);
		c = connect_to(&h, priv2);
		assert_int_equal(carta_ping(c, &info), 0);
	}
	assert_int_equal(info.role, CARTA__V1__ROLE__ROLE_ADMIN);
	assert_int_equal(count_principals(c, "admin", false), 1);
	/* And it cannot revoke itself either. */
	assert_int_equal(carta_admin_revoke(c, info.principal), CARTA_ESTATUS);
	assert_int_equal(carta_client_status(c),
			 CARTA__V1__STATUS__CODE__FAILED_PRECONDITION);
	carta_close(c);
	assert_int_equal(harness_stop(&h), 0);
}

struct pipeliner {
	rawclient rc;
	int sent; /* enrolments sent before the server hung up */
};

/* Sends enrolments until the connection dies (or 5000 of them), never
 * reading an answer. */
static void *pipeline_enrolments(void *arg)
{
	struct pipeliner *pl = arg;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__EnrolRequest e = CARTA__V1__ENROL_REQUEST__INIT;
	uint8_t priv[32], pub[32];
	char name[32];

	req.body_case = CARTA__V1__REQUEST__BODY_ENROL;
	req.enrol = &e;
	e.department = "sales";
	e.name = name;
	e.public_key.data = pub;
	e.public_key.len = 32;
	for (pl->sent = 0; pl->sent < 5000; pl->sent++) {
		noise_keypair(priv, pub);
		snprintf(name, sizeof(name), "queued-%04d", pl->sent);
		req.id = (uint64_t)pl->sent + 1;
		if (raw_send_request(&pl->rc, &req) != 0)
			break;
	}
	return NULL;
}

static void test_revoked_principal_queued_requests_not_applied(void **state)
{
	uint8_t priv[32], pub[32];
	struct pipeliner pl;
	pthread_t t;
	(void)state;

	carta_client *admin = connect_as(srv.admin_priv);
	noise_keypair(priv, pub);
	assert_int_equal(carta_admin_enrol(admin, "pipeliner", "admin",
					   CARTA__V1__ROLE__ROLE_ADMIN, pub,
					   NULL),
			 0);
	assert_int_equal(raw_handshake(&pl.rc, &srv, priv, srv.server_pub), 0);
	assert_int_equal(pthread_create(&t, NULL, pipeline_enrolments, &pl), 0);

	/* Revoke it while its enrolments are queued and running. */
	uint64_t deadline = harness_now_ms() + 20000;
	while (count_principals(admin, "queued-", true) < 20)
		assert_true(harness_now_ms() < deadline);
	assert_int_equal(carta_admin_revoke(admin, "pipeliner"), 0);
	size_t at_answer = count_principals(admin, "queued-", true);

	/* The server hangs up on it; whatever it had queued, nothing more
	 * takes effect. */
	assert_int_equal(harness_wait_closed(pl.rc.fd, 10000), 1);
	pthread_join(t, NULL);
	usleep(300000);
	size_t later = count_principals(admin, "queued-", true);
	print_message("enrolments: %d sent, %zu applied by the revocation's "
		      "answer, %zu later\n",
		      pl.sent, at_answer, later);
	assert_int_equal(later, at_answer);
	assert_true(at_answer < (size_t)pl.sent);
	raw_close(&pl.rc);
	carta_close(admin);
}

static void test_admin_events_logged(void **state)
{
	uint8_t priv[32], pub[32];
	char fp[KEY_FP_SIZE], b64[KEY_B64_SIZE];
	(void)state;

	carta_client *admin = connect_as(srv.admin_priv);
	noise_keypair(priv, pub);
	assert_int_equal(
	    carta_admin_enrol(admin, "logged", "support", 0, pub, NULL), 0);
	assert_int_equal(carta_admin_revoke(admin, "logged"), 0);
	/* A member asking for an admin's request is refused, and logged. */
	uint8_t mpriv[32];
	enrol(admin, "nosy", "support", mpriv);
	carta_client *nosy = connect_as(mpriv);
	carta_principal *list = NULL;
	size_t n = 0;
	assert_int_equal(carta_admin_principals(nosy, &list, &n),
			 CARTA_ESTATUS);
	assert_int_equal(carta_client_status(nosy),
			 CARTA__V1__STATUS__CODE__PERMISSION_DENIED);
	carta_close(nosy);
	carta_close(admin);

	key_fingerprint(pub, fp);
	key_to_base64(pub, b64);
	char *log = harness_read_log(&srv);
	assert_non_null(log);
	char want[256];
	snprintf(want, sizeof(want),
		 "event=principal_enrolled principal=logged department=support "
		 "role=member key_fp=%s by=admin",
		 fp);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want),
		 "event=principal_revoked principal=logged department=support "
		 "key_fp=%s by=admin",
		 fp);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, "event=permission_denied principal=nosy "
				    "department=support "
				    "request=list_principals"));
	/* Fingerprints only: never a key. */
	assert_null(strstr(log, b64));
	free(log);
}

static void test_cartad_refuses_bad_listen(void **state)
{
	char cmd[3 * PATH_MAX], out[4096];
	struct stat st;
	(void)state;

	/* Not an address, a port out of range: a message, not silence. */
	const char *bad[] = {"bogus", "127.0.0.1:99999"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "'%s' --data '%s' --listen %s 2>&1",
			 CARTAD_PATH, srv.dir, bad[i]);
		assert_int_not_equal(harness_run(cmd, out, sizeof(out)), 0);
		assert_non_null(strstr(out, bad[i]));
		assert_non_null(strstr(out, "HOST:PORT"));
	}

	/* init takes IP addresses only, as the server binds them. */
	snprintf(cmd, sizeof(cmd),
		 "'%s' init --data '%s/named' --listen myhost.example:80 2>&1",
		 CARTAD_PATH, srv.dir);
	assert_int_not_equal(harness_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "myhost.example:80"));
	assert_non_null(strstr(out, "IP address"));
	snprintf(cmd, sizeof(cmd), "%s/named", srv.dir);
	assert_int_not_equal(stat(cmd, &st), 0);
}

/* Sends the packed request bytes as they are, over rc's channel. */
static void send_bytes(rawclient *rc, const uint8_t *plain, size_t len)
{
	static uint8_t frame[FRAME_HEADER_LEN + NOISE_MAX_MSG];
	size_t n = 0;
	assert_int_equal(
	    secure_seal(&rc->ch, plain, len, frame, sizeof(frame), &n), 0);
	assert_int_equal(raw_send_all(rc->fd, frame, n), 0);
}

/* protobuf-c would read "bad\0tail" as "bad": such a request, and any
 * other that is not in canonical encoding, is refused, and the
 * connection goes on. */
static void test_string_with_nul_refused(void **state)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__RevokeRequest revoke = CARTA__V1__REVOKE_REQUEST__INIT;
	uint8_t buf[128];
	rawclient rc;
	(void)state;

	assert_int_equal(
	    raw_handshake(&rc, &srv, srv.admin_priv, srv.server_pub), 0);
	revoke.name = "bad#tail";
	req.id = 41;
	req.body_case = CARTA__V1__REQUEST__BODY_REVOKE;
	req.revoke = &revoke;
	size_t len = carta__v1__request__pack(&req, buf);
	uint8_t *hash = memchr(buf, '#', len);
	assert_non_null(hash);
	*hash = '\0';
	send_bytes(&rc, buf, len);
	Carta__V1__Response *resp = raw_recv_response(&rc, 5000);
	assert_non_null(resp);
	assert_int_equal(resp->id, 41);
	assert_int_equal(resp->status->code,
			 CARTA__V1__STATUS__CODE__INVALID_ARGUMENT);
	assert_non_null(strstr(resp->status->message, "canonical"));
	carta__v1__response__free_unpacked(resp, NULL);

	/* A field sent explicitly with its default value (id 7 then the
	 * ping with echo = "" spelled out) is refused the same way. */
	const uint8_t explicit_default[] = {0x08, 0x07, 0x52, 0x02, 0x0a, 0x00};
	send_bytes(&rc, explicit_default, sizeof(explicit_default));
	resp = raw_recv_response(&rc, 5000);
	assert_non_null(resp);
	assert_int_equal(resp->status->code,
			 CARTA__V1__STATUS__CODE__INVALID_ARGUMENT);
	carta__v1__response__free_unpacked(resp, NULL);

	/* The connection still serves. */
	Carta__V1__Ping ping = CARTA__V1__PING__INIT;
	req.id = 42;
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	assert_int_equal(raw_send_request(&rc, &req), 0);
	resp = raw_recv_response(&rc, 5000);
	assert_non_null(resp);
	assert_int_equal(resp->id, 42);
	assert_int_equal(resp->status->code, CARTA__V1__STATUS__CODE__OK);
	carta__v1__response__free_unpacked(resp, NULL);
	raw_close(&rc);
}

/* A principal revoked while it pipelines still reads why: the server
 * says goodbye with a FIN and drains what it sends, rather than resetting
 * the connection with the message unread. */
static void test_revoked_while_pipelining_reads_reason(void **state)
{
	uint8_t priv[32], pub[32];
	carta_principal p;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__Ping ping = CARTA__V1__PING__INIT;
	(void)state;

	carta_client *admin = connect_as(srv.admin_priv);
	noise_keypair(priv, pub);
	assert_int_equal(carta_admin_enrol(admin, "piper", "sales", 0, pub, &p),
			 0);
	carta_principal_clear(&p);
	carta_client *piper = connect_as(priv);
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	for (int i = 0; i < 300; i++)
		assert_int_equal(carta_send(piper, &req, NULL), 0);
	assert_int_equal(carta_admin_revoke(admin, "piper"), 0);
	/* More keep coming after the revocation. A send that finds the
	 * connection gone reads the server's last word there and then. */
	int rv = 0;
	for (int i = 0; i < 300 && rv == 0; i++)
		rv = carta_send(piper, &req, NULL);

	while (rv == 0) {
		Carta__V1__Response *resp = NULL;
		rv = carta_recv(piper, &resp);
		if (rv == 0)
			carta__v1__response__free_unpacked(resp, NULL);
	}
	assert_int_equal(rv, CARTA_EAUTH);
	assert_non_null(strstr(carta_client_errmsg(piper), "revoked"));
	carta_close(piper);
	carta_close(admin);
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
	    cmocka_unit_test(test_principal_cap_and_admin_reserve),
	    cmocka_unit_test(test_enrol_refuses_unusable_keys),
	    cmocka_unit_test(test_admin_cannot_revoke_itself),
	    cmocka_unit_test(test_two_admins_revoking_each_other),
	    cmocka_unit_test(
		test_revoked_principal_queued_requests_not_applied),
	    cmocka_unit_test(test_admin_events_logged),
	    cmocka_unit_test(test_cartad_refuses_bad_listen),
	    cmocka_unit_test(test_string_with_nul_refused),
	    cmocka_unit_test(test_revoked_while_pipelining_reads_reason),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
