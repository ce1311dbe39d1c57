#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carta_error.h"
#include "noise.h"

void key_to_base64(const uint8_t key[KEY_LEN], char out[KEY_B64_SIZE])
{
	sodium_bin2base64(out, KEY_B64_SIZE, key, KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

int key_from_base64(const char *text, uint8_t key[KEY_LEN])
{
	size_t len, bin_len = 0;
	const char *end = NULL;

	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
			   text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len != KEY_B64_SIZE - 1)
		return CARTA_EINVAL;
	if (sodium_base642bin(key, KEY_LEN, text, len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != KEY_LEN || end != text + len)
		return CARTA_EINVAL;
	return 0;
}

void key_fingerprint(const uint8_t pub[KEY_LEN], char out[KEY_FP_SIZE])
{
	static const char label[] = "carta key fingerprint";
	uint8_t h[16];
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_blake2b_update(&st, (const uint8_t *)label,
					  sizeof(label) - 1);
	crypto_generichash_blake2b_update(&st, pub, KEY_LEN);
	crypto_generichash_blake2b_final(&st, h, sizeof(h));
	snprintf(out, KEY_FP_SIZE, "%02x%02x:%02x%02x:%02x%02x:%02x%02x", h[0],
		 h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
}

int secret_file_check(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? CARTA_ENOENT : CARTA_EIO;
	if (!S_ISREG(st.st_mode))
		return CARTA_EINVAL;
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return CARTA_EPERM;
	return 0;
}

int secret_file_write(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? CARTA_EEXIST : CARTA_EIO;

	/* The umask cannot widen 0600, but an inherited ACL might. */
	int rv = fchmod(fd, 0600) == 0 ? 0 : CARTA_EIO;
	size_t done = 0;
	while (rv == 0 && done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rv = CARTA_EIO;
		else
			done += (size_t)n;
	}
	if (rv == 0 && fsync(fd) != 0)
		rv = CARTA_EIO;
	if (close(fd) != 0 && rv == 0)
		rv = CARTA_EIO;
	if (rv != 0)
		unlink(path);
	return rv;
}

int secret_file_read(const char *path, size_t max, char **out)
{
	int rv = secret_file_check(path);
	if (rv != 0)
		return rv;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? CARTA_ENOENT : CARTA_EIO;
	char *buf = sodium_malloc(max + 1);
	if (buf == NULL) {
		close(fd);
		return CARTA_ENOMEM;
	}

	size_t have = 0;
	for (;;) {
		ssize_t n = read(fd, buf + have, max + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = CARTA_EIO;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			rv = CARTA_ETOOBIG;
			break;
		}
	}
	close(fd);
	if (rv != 0) {
		sodium_free(buf);
		return rv;
	}
	buf[have] = '\0';
	*out = buf;
	return 0;
}

int keyfile_write(const char *path, const uint8_t priv[KEY_LEN])
{
	uint8_t pub[KEY_LEN];
	char sb[KEY_B64_SIZE], pb[KEY_B64_SIZE];
	char text[256];
	int rv = noise_pubkey(priv, pub);
	if (rv != 0)
		goto out;

	key_to_base64(priv, sb);
	key_to_base64(pub, pb);
	int n = snprintf(text, sizeof(text),
			 "# Carta secret key. Keep it private (mode 0600).\n"
			 "[key]\nsecret = %s\npublic = %s\n",
			 sb, pb);
	rv = secret_file_write(path, text, (size_t)n);
out:
	sodium_memzero(sb, sizeof(sb));
	sodium_memzero(text, sizeof(text));
	return rv;
}

struct keyfile_parse {
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	int has_priv, has_pub;
	int bad_line;
	const char *bad_what;
};

static int keyfile_handler(void *user, const char *section, const char *name,
			   const char *value)
{
	struct keyfile_parse *k = user;

	if (strcmp(section, "key") != 0) {
		k->bad_what = "unknown section (expected [key])";
	} else if (strcmp(name, "secret") == 0) {
		if (key_from_base64(value, k->priv) == 0)
			k->has_priv = 1;
		else
			k->bad_what = "secret is not a 44-character base64 key";
	} else if (strcmp(name, "public") == 0) {
		if (key_from_base64(value, k->pub) == 0)
			k->has_pub = 1;
		else
			k->bad_what = "public is not a 44-character base64 key";
	} else {
		k->bad_what = "unknown field";
	}
	if (k->bad_what != NULL && k->bad_line == 0) {
		k->bad_line = 1;
		return 0;
	}
	return 1;
}

int keyfile_read(const char *path, uint8_t priv[KEY_LEN], uint8_t pub[KEY_LEN],
		 char *err, size_t errlen)
{
	struct keyfile_parse k;
	char *text = NULL;
	uint8_t derived[KEY_LEN];
	int rv;

	memset(&k, 0, sizeof(k));
	rv = secret_file_read(path, 4096, &text);
	if (rv == CARTA_EPERM) {
		snprintf(err, errlen,
			 "%s: group or others may access this secret key "
			 "file; run chmod 600 on it",
			 path);
		goto out;
	}
	if (rv != 0) {
		snprintf(err, errlen, "%s: %s", path, carta_strerror(rv));
		goto out;
	}

	int line = ini_parse_string(text, keyfile_handler, &k);
	if (k.bad_line != 0 || line != 0) {
		snprintf(err, errlen, "%s: line %d: %s", path, line,
			 k.bad_what ? k.bad_what : "syntax error");
		rv = CARTA_EINVAL;
		goto out;
	}
	if (!k.has_priv) {
		snprintf(err, errlen, "%s: no 'secret' in [key]", path);
		rv = CARTA_EINVAL;
		goto out;
	}
	if (noise_pubkey(k.priv, derived) != 0 ||
	    (k.has_pub && sodium_memcmp(derived, k.pub, KEY_LEN) != 0)) {
		snprintf(err, errlen,
			 "%s: 'public' does not belong to 'secret'", path);
		rv = CARTA_EINVAL;
		goto out;
	}
	memcpy(priv, k.priv, KEY_LEN);
	memcpy(pub, derived, KEY_LEN);
out:
	if (text != NULL)
		sodium_free(text);
	sodium_memzero(&k, sizeof(k));
	return rv;
}
