#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carta_error.h"
#include "config.h"
#include "keys.h"
#include "log.h"
#include "noise.h"
#include "profile.h"
#include "policy.h"
#include "store.h"
#include "store_card.h"

const char *const init_departments[] = {"admin",     "sales",	"support",
					"marketing", "billing", NULL};

/* 0 when dir is absent (created) or an empty directory. */
static int make_empty_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return CARTA_EIO;

	DIR *d = opendir(dir);
	if (d == NULL)
		return CARTA_EIO;
	struct dirent *e;
	int rv = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0) {
			rv = CARTA_EEXIST;
			break;
		}
	}
	closedir(d);
	if (rv == 0 && chmod(dir, 0700) != 0)
		rv = CARTA_EIO;
	return rv;
}

/* After a failed init: the files init makes, and the directory, go, so
 * that nothing half-made is left to be mistaken for a data directory. */
static void remove_half_made(const char *dir)
{
	static const char *const files[] = {
	    DATA_SERVER_KEY, DATA_CONFIG,	 DATA_DB, DATA_DB "-wal",
	    DATA_DB "-shm",  DATA_ADMIN_PROFILE, NULL};
	char path[PATH_MAX];

	for (int i = 0; files[i] != NULL; i++) {
		int n = snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (n > 0 && (size_t)n < sizeof(path))
			unlink(path);
	}
	rmdir(dir);
}

static int join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	return n > 0 && (size_t)n < cap ? 0 : CARTA_ETOOBIG;
}

int init_data_dir(const char *dir, const char *listen)
{
	char path[PATH_MAX], host[CONFIG_LISTEN_MAX];
	uint8_t server_priv[KEY_LEN], server_pub[KEY_LEN];
	uint8_t admin_priv[KEY_LEN], admin_pub[KEY_LEN];
	char b64[KEY_B64_SIZE], fp[KEY_FP_SIZE], why[200];
	profile prof;
	store *db = NULL;
	store_principal admin;
	int port, rv;
	const char *step = "";

	memset(&prof, 0, sizeof(prof));
	/* The server binds IP addresses only: a name accepted here would
	 * make a data directory whose server cannot start. */
	if (config_check_listen(listen, why, sizeof(why)) != 0 ||
	    config_split_address(listen, host, sizeof(host), &port) != 0) {
		fprintf(stderr, "cartad: init: --listen %s\n", why);
		return 2;
	}
	/* The store's routine events are for a running server's log. */
	log_set_level(LOG_WARN);
	rv = make_empty_dir(dir);
	if (rv == CARTA_EEXIST) {
		fprintf(stderr,
			"cartad: init: %s already exists and is not empty; "
			"refusing to overwrite it\n",
			dir);
		return 1;
	}
	if (rv != 0) {
		fprintf(stderr, "cartad: init: cannot create %s: %s\n", dir,
			strerror(errno));
		return 1;
	}

	step = "server key";
	noise_keypair(server_priv, server_pub);
	rv = join(path, sizeof(path), dir, DATA_SERVER_KEY);
	if (rv == 0)
		rv = keyfile_write(path, server_priv);
	if (rv != 0)
		goto out;

	step = "config";
	rv = join(path, sizeof(path), dir, DATA_CONFIG);
	if (rv == 0)
		rv = config_write_default(path, listen);
	if (rv != 0)
		goto out;

	step = "database";
	rv = join(path, sizeof(path), dir, DATA_DB);
	if (rv == 0)
		rv = store_open(path, 1, &db);
	for (int i = 0; rv == 0 && init_departments[i] != NULL; i++)
		rv = store_department_add(db, init_departments[i]);
	/* The default policy (README.md): what each department may read and
	 * write of a card. */
	store_actor seeder = {.principal = "cartad init",
			      .department = "admin"};
	for (int i = 0; rv == 0 && init_departments[i] != NULL; i++)
		for (int s = 1; rv == 0 && s < CARD_SECTIONS; s++)
			rv = store_policy_set(
			    db, &seeder, init_departments[i], s,
			    policy_default_access(init_departments[i], s));
	if (rv != 0)
		goto out;

	step = "admin principal";
	noise_keypair(admin_priv, admin_pub);
	rv = store_principal_add(db, &seeder, "admin", "admin",
				 STORE_ROLE_ADMIN, admin_pub, &admin);
	if (rv != 0)
		goto out;

	step = "admin profile";
	snprintf(prof.name, sizeof(prof.name), "admin");
	/* A wildcard listen address is not one a client can dial. */
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(prof.server, sizeof(prof.server), "127.0.0.1:%d",
			 port);
	else if (strcmp(host, "::") == 0)
		snprintf(prof.server, sizeof(prof.server), "[::1]:%d", port);
	else
		snprintf(prof.server, sizeof(prof.server), "%s", listen);
	memcpy(prof.server_key, server_pub, KEY_LEN);
	memcpy(prof.secret_key, admin_priv, KEY_LEN);
	prof.has_server = prof.has_server_key = prof.has_secret_key = true;
	rv = join(path, sizeof(path), dir, DATA_ADMIN_PROFILE);
	if (rv == 0)
		rv = profile_write(path, &prof);
	if (rv != 0)
		goto out;

	key_to_base64(server_pub, b64);
	key_fingerprint(server_pub, fp);
	printf("Initialised Carta data directory %s\n"
	       "  server public key: %s\n"
	       "  fingerprint:       %s\n"
	       "  listen:            %s\n"
	       "  admin profile:     %s/%s (secret: keep it private)\n"
	       "\n"
	       "Next steps:\n"
	       "  cartad --data %s                      # start the server\n"
	       "  carta --profile %s/%s ping\n"
	       "  carta --profile %s/%s admin enrol NAME --department sales "
	       "--out NAME.profile\n",
	       dir, b64, fp, listen, dir, DATA_ADMIN_PROFILE, dir, dir,
	       DATA_ADMIN_PROFILE, dir, DATA_ADMIN_PROFILE);
	if (port == 0)
		printf("\nPort 0: cartad picks a free port when it starts and "
		       "writes the address to %s/%s;\nadd --server $(cat "
		       "%s/%s) to carta commands.\n",
		       dir, DATA_ADDR, dir, DATA_ADDR);

out:
	store_close(db);
	if (rv != 0) {
		fprintf(stderr, "cartad: init: %s: %s\n", step,
			carta_strerror(rv));
		remove_half_made(dir);
	}
	profile_wipe(&prof);
	sodium_memzero(server_priv, sizeof(server_priv));
	sodium_memzero(admin_priv, sizeof(admin_priv));
	return rv == 0 ? 0 : 1;
}
