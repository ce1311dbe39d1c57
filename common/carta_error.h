/* Carta error codes, shared by the server, libcarta and the CLI.
 *
 * Every function that can fail returns 0 on success or one of these
 * negative codes. carta_strerror() names a code in a short English phrase
 * that never contains data. This header is part of libcarta's public API. */
#ifndef CARTA_ERROR_H
#define CARTA_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum carta_error {
	CARTA_OK = 0,
	CARTA_ENOMEM = -1,     /* out of memory */
	CARTA_EIO = -2,	       /* an operating-system call failed */
	CARTA_EPROTO = -3,     /* the peer broke the framing or the protocol */
	CARTA_ECRYPTO = -4,    /* authentication or a Diffie-Hellman failed */
	CARTA_ETIMEDOUT = -5,  /* a deadline passed */
	CARTA_ECLOSED = -6,    /* the peer closed the connection */
	CARTA_EINVAL = -7,     /* an argument or input is malformed */
	CARTA_ENOENT = -8,     /* a file or object does not exist */
	CARTA_EEXIST = -9,     /* a file or object already exists */
	CARTA_EPERM = -10,     /* file permissions are unsafe or deny access */
	CARTA_EDB = -11,       /* the store failed */
	CARTA_EAUTH = -12,     /* the server refused our key */
	CARTA_ESTATUS = -13,   /* the server answered with a non-OK status */
	CARTA_ETOOBIG = -14,   /* a message or input exceeds its bound */
	CARTA_ESTATE = -15,    /* a call made in the wrong state */
	CARTA_ECONFLICT = -16, /* the object moved on since it was read */
	CARTA_EGONE = -17,     /* the object was erased */
};

/* A static English phrase for code; never NULL. */
const char *carta_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
