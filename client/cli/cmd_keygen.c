/* carta keygen --out FILE: a key pair for this user. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "keys.h"
#include "noise.h"

/* Creates path (never overwriting) with mode 0644 holding text. */
static int write_public(const char *path, const char *text)
{
	size_t len = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) != 0)
		goto err;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto err;
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto err;
	return close(fd);

err:;
	int e = errno;
	close(fd);
	unlink(path);
	errno = e;
	return -1;
}

int cmd_keygen(const cli_args *a)
{
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	char pubpath[CARTA_PATH_MAX], b64[KEY_B64_SIZE + 1], fp[KEY_FP_SIZE];
	struct stat st;
	int status = CLI_EXIT_FAIL;
	int rv;

	int n = snprintf(pubpath, sizeof pubpath, "%s.pub", a->out);
	if (n < 0 || (size_t)n >= sizeof pubpath)
		return cli_fail(a, "path too long");
	if (lstat(a->out, &st) == 0)
		return cli_fail(a, "%s already exists", a->out);
	if (lstat(pubpath, &st) == 0)
		return cli_fail(a, "%s already exists", pubpath);

	noise_keypair(priv, pub);
	rv = keyfile_write(a->out, priv);
	if (rv != 0) {
		if (rv == CARTA_EEXIST)
			cli_fail(a, "%s already exists", a->out);
		else
			cli_fail(a, "cannot write %s: %s", a->out,
				 rv == CARTA_EIO ? strerror(errno)
						 : carta_strerror(rv));
		goto out;
	}

	key_to_base64(pub, b64);
	key_fingerprint(pub, fp);
	strcat(b64, "\n");
	if (write_public(pubpath, b64) != 0) {
		cli_fail(a, "cannot write %s: %s", pubpath, strerror(errno));
		unlink(a->out);
		goto out;
	}
	b64[KEY_B64_SIZE - 1] = '\0';

	if (a->json) {
		json_t *o = json_object();

		json_object_set_new(o, "key_file", cli_json_str(a->out));
		json_object_set_new(o, "public_key_file",
				    cli_json_str(pubpath));
		json_object_set_new(o, "public_key", json_string(b64));
		json_object_set_new(o, "fingerprint", json_string(fp));
		status = cli_print_json(a, o);
		goto out;
	}
	printf("secret key:  %s (keep it private)\n", a->out);
	printf("public key:  %s (also in %s)\n", b64, pubpath);
	printf("fingerprint: %s\n", fp);
	status = CLI_EXIT_OK;

out:
	sodium_memzero(priv, sizeof priv);
	return status;
}
