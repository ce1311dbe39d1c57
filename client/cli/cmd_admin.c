/* carta admin enrol | revoke | principals. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "keys.h"
#include "noise.h"
#include "profile.h"

int check_admin_enrol(const cli_args *a, char *err, size_t errlen)
{
	uint8_t key[KEY_LEN];

	if (a->out != NULL && a->public_key != NULL) {
		snprintf(err, errlen, "give --out or --public-key, not both");
		return -1;
	}
	if (a->out == NULL && a->public_key == NULL) {
		snprintf(err, errlen, "missing --out FILE or --public-key KEY");
		return -1;
	}
	if (a->pos[0][0] == '\0') {
		snprintf(err, errlen, "NAME must not be empty");
		return -1;
	}
	if (a->out != NULL && strlen(a->pos[0]) >= PROFILE_NAME_MAX) {
		snprintf(err, errlen, "NAME is longer than %d bytes",
			 PROFILE_NAME_MAX - 1);
		return -1;
	}
	if (a->public_key != NULL && key_from_base64(a->public_key, key) != 0) {
		snprintf(err, errlen,
			 "--public-key: not a base64 public key (44 "
			 "characters)");
		return -1;
	}
	return 0;
}

/* Refuses before anything is enrolled when path exists or its folder
 * cannot be written. */
static int check_out_path(const cli_args *a, const char *path)
{
	struct stat st;
	char *copy;
	int rv = 0;

	if (lstat(path, &st) == 0)
		return cli_fail(a, "%s already exists", path);
	copy = strdup(path);
	if (copy == NULL)
		return cli_fail(a, "out of memory");
	const char *dir = dirname(copy);
	if (access(dir, W_OK) != 0)
		rv =
		    cli_fail(a, "cannot write in %s: %s", dir, strerror(errno));
	free(copy);
	return rv;
}

static json_t *principal_json(const carta_principal *p)
{
	json_t *o = json_object();
	char b64[KEY_B64_SIZE], fp[KEY_FP_SIZE], when[32];

	json_object_set_new(o, "name", cli_json_str(p->name));
	json_object_set_new(o, "department", cli_json_str(p->department));
	json_object_set_new(o, "role", json_string(carta_role_name(p->role)));
	json_object_set_new(o, "state",
			    json_string(carta_state_name(p->state)));
	if (p->has_public_key) {
		key_to_base64(p->public_key, b64);
		key_fingerprint(p->public_key, fp);
		json_object_set_new(o, "public_key", json_string(b64));
		json_object_set_new(o, "fingerprint", json_string(fp));
	} else {
		json_object_set_new(o, "public_key", json_null());
		json_object_set_new(o, "fingerprint", json_null());
	}
	cli_time(p->created_at, when, sizeof when);
	json_object_set_new(o, "created", json_string(when));
	json_object_set_new(o, "created_at", json_integer(p->created_at));
	json_object_set_new(o, "revoked_at",
			    p->revoked_at != 0 ? json_integer(p->revoked_at)
					       : json_null());
	return o;
}

int cmd_admin_enrol(const cli_args *a)
{
	const char *name = a->pos[0];
	int role = a->admin ? CARTA__V1__ROLE__ROLE_ADMIN
			    : CARTA__V1__ROLE__ROLE_MEMBER;
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	char fp[KEY_FP_SIZE], who[CARTA_INFO_STR_MAX], dept[CARTA_INFO_STR_MAX];
	carta_principal got;
	carta_options opts;
	carta_client *c = NULL;
	profile p;
	int status;

	memset(&got, 0, sizeof got);
	memset(&p, 0, sizeof p);
	status = cli_load_options(a, &opts);
	if (status != 0)
		return status;

	if (a->out != NULL) {
		status = check_out_path(a, a->out);
		if (status != 0)
			goto out;
		noise_keypair(priv, pub);
	} else {
		/* Checked by check_admin_enrol. */
		key_from_base64(a->public_key, pub);
	}

	status = cli_connect(a, &opts, &c);
	if (status != 0)
		goto out;
	if (carta_admin_enrol(c, name, a->department, role, pub, &got) != 0) {
		status = cli_fail_client(a, c);
		goto out;
	}
	if (got.has_public_key && memcmp(got.public_key, pub, KEY_LEN) != 0) {
		status =
		    cli_fail(a, "the server reports another key for %s", name);
		goto out;
	}
	memcpy(got.public_key, pub, KEY_LEN);
	got.has_public_key = true;

	if (a->out != NULL) {
		snprintf(p.name, sizeof p.name, "%s", name);
		snprintf(p.server, sizeof p.server, "%s", opts.server);
		memcpy(p.server_key, opts.server_key, KEY_LEN);
		memcpy(p.secret_key, priv, KEY_LEN);
		p.has_server = p.has_server_key = p.has_secret_key = true;
		int rv = profile_write(a->out, &p);
		if (rv != 0) {
			status = cli_fail(a,
					  "%s is enrolled, but %s could not be "
					  "written (%s); revoke it with 'carta "
					  "admin revoke %s'",
					  name, a->out,
					  rv == CARTA_EIO ? strerror(errno)
							  : carta_strerror(rv),
					  name);
			goto out;
		}
	}

	if (a->json) {
		json_t *o = principal_json(&got);

		json_object_set_new(o, "profile",
				    a->out != NULL ? cli_json_str(a->out)
						   : json_null());
		status = cli_print_json(a, o);
		goto out;
	}
	key_fingerprint(pub, fp);
	cli_sanitize(got.name, who, sizeof who);
	cli_sanitize(got.department, dept, sizeof dept);
	printf("enrolled:    %s\n", who);
	printf("department:  %s\n", dept);
	printf("role:        %s\n", carta_role_name(got.role));
	printf("fingerprint: %s\n", fp);
	if (a->out != NULL)
		printf("profile:     %s (give it to %s; it holds the secret "
		       "key)\n",
		       a->out, who);
	status = CLI_EXIT_OK;

out:
	sodium_memzero(priv, sizeof priv);
	profile_wipe(&p);
	carta_options_wipe(&opts);
	carta_principal_clear(&got);
	carta_close(c);
	return status;
}

int cmd_admin_revoke(const cli_args *a)
{
	carta_options opts;
	carta_client *c = NULL;
	int status;

	status = cli_load_options(a, &opts);
	if (status != 0)
		return status;
	status = cli_connect(a, &opts, &c);
	carta_options_wipe(&opts);
	if (status != 0)
		return status;

	if (carta_admin_revoke(c, a->pos[0]) != 0) {
		status = cli_fail_client(a, c);
	} else if (a->json) {
		json_t *o = json_object();

		json_object_set_new(o, "name", cli_json_str(a->pos[0]));
		json_object_set_new(o, "state", json_string("revoked"));
		status = cli_print_json(a, o);
	} else {
		printf("revoked: %s\n", a->pos[0]);
	}
	carta_close(c);
	return status;
}

static const char *const col_titles[] = {
    "NAME", "DEPARTMENT", "ROLE", "STATE", "FINGERPRINT", "CREATED",
};

static int print_table(const cli_args *a, const carta_principal *list, size_t n)
{
	cli_table t;
	int rv = cli_table_init(&t, col_titles, 6, 0);

	for (size_t r = 0; r < n && rv == 0; r++) {
		const carta_principal *p = &list[r];
		char fp[KEY_FP_SIZE], when[32];
		const char *cells[] = {p->name,
				       p->department,
				       carta_role_name(p->role),
				       carta_state_name(p->state),
				       fp,
				       when};

		if (p->has_public_key)
			key_fingerprint(p->public_key, fp);
		else
			fp[0] = '\0';
		cli_time(p->created_at, when, sizeof when);
		rv = cli_table_add(&t, cells);
	}
	if (rv == 0)
		cli_table_flush(&t);
	cli_table_free(&t);
	return rv == 0 ? CLI_EXIT_OK : cli_fail(a, "out of memory");
}

int cmd_admin_principals(const cli_args *a)
{
	carta_principal *list = NULL;
	carta_options opts;
	carta_client *c = NULL;
	size_t n = 0;
	int status;

	status = cli_load_options(a, &opts);
	if (status != 0)
		return status;
	status = cli_connect(a, &opts, &c);
	carta_options_wipe(&opts);
	if (status != 0)
		return status;

	if (carta_admin_principals(c, &list, &n) != 0) {
		status = cli_fail_client(a, c);
	} else if (a->json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, principal_json(&list[i]));
		status = cli_print_json(a, arr);
	} else {
		status = print_table(a, list, n);
	}
	carta_principals_free(list, n);
	carta_close(c);
	return status;
}
