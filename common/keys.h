/* Key material on disk and on screen.
 *
 * Public keys are shown as standard base64 (44 characters) and a short
 * fingerprint ("3f2a:91c0:77de:0b14", the first 8 bytes of a BLAKE2b hash
 * of the key) that people can compare by eye. Secret keys live in files
 * written with mode 0600; a secret file that the group or others can read
 * is refused. */
#ifndef CARTA_KEYS_H
#define CARTA_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEY_LEN	     32
#define KEY_B64_SIZE 45 /* 44 characters and a NUL */
#define KEY_FP_SIZE  20 /* 19 characters and a NUL */

void key_to_base64(const uint8_t key[KEY_LEN], char out[KEY_B64_SIZE]);

/* Parses 44 characters of standard base64, ignoring leading and trailing
 * white space. Returns 0 or CARTA_EINVAL. */
int key_from_base64(const char *text, uint8_t key[KEY_LEN]);

void key_fingerprint(const uint8_t pub[KEY_LEN], char out[KEY_FP_SIZE]);

/* Refuses (CARTA_EPERM) a file whose mode lets group or others read or
 * write it; CARTA_ENOENT when missing, CARTA_EIO on other failures. */
int secret_file_check(const char *path);

/* Creates path (never overwrites: CARTA_EEXIST) with mode 0600 and writes
 * len bytes of text. The caller wipes text. */
int secret_file_write(const char *path, const char *text, size_t len);

/* Reads a whole secret file (at most max bytes; CARTA_ETOOBIG beyond)
 * after secret_file_check into a sodium_malloc'd NUL-terminated buffer
 * that the caller releases with sodium_free (which wipes it). */
int secret_file_read(const char *path, size_t max, char **out);

/* A key file made by `carta keygen`: an INI section [key] with `secret`
 * and `public`, both base64. keyfile_write creates it (0600, never
 * overwriting). keyfile_read checks the mode, parses it, and checks that
 * `public` matches the secret key. On error, err (errlen bytes) says what
 * is wrong, with the line number where there is one. */
int keyfile_write(const char *path, const uint8_t priv[KEY_LEN]);
int keyfile_read(const char *path, uint8_t priv[KEY_LEN], uint8_t pub[KEY_LEN],
		 char *err, size_t errlen);

#endif
