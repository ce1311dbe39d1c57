/* Fuzz target: a decrypted request as the server sees it, decoded and
 * dispatched as an admin against an in-memory store. Every request must
 * get at least one response that fits in a transport frame. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "carta.pb-c.h"
#include "dispatch.h"
#include "log.h"
#include "secure.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static store *db;
static store_principal admin;
static char dir[] = "/tmp/carta-fuzz-XXXXXX";

static void cleanup(void)
{
	char path[64];
	const char *const files[] = {"fuzz.db", "fuzz.db-wal", "fuzz.db-shm"};

	store_close(db);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dispatch_out out = {0};

	if (db == NULL) {
		log_set_level(LOG_ERROR);
		/* A real file: the store runs SQLite in WAL mode. */
		char path[64];
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(cleanup);
		snprintf(path, sizeof(path), "%s/fuzz.db", dir);
		if (store_open(path, 1, &db) != 0 ||
		    store_department_add(db, "sales") != 0)
			abort();
		memset(&admin, 0, sizeof(admin));
		admin.id = 1;
		strcpy(admin.name, "admin");
		strcpy(admin.department, "sales");
		admin.role = STORE_ROLE_ADMIN;
		admin.state = STORE_STATE_ACTIVE;
	}
	if (size > SECURE_MAX_PLAINTEXT)
		return 0;
	Carta__V1__Request *req = carta__v1__request__unpack(NULL, size, data);
	if (req == NULL)
		return 0;
	dispatch_env env = {.db = db, .region = "ES"};
	dispatch_request(&env, &admin, req, &out);
	if (out.n == 0)
		abort();
	for (size_t i = 0; i < out.n; i++)
		if (out.msgs[i].len > SECURE_MAX_PLAINTEXT)
			abort();
	dispatch_out_free(&out);
	carta__v1__request__free_unpacked(req, NULL);
	return 0;
}
