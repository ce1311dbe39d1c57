#include "carta_error.h"

const char *carta_strerror(int code)
{
	switch (code) {
	case CARTA_OK:
		return "success";
	case CARTA_ENOMEM:
		return "out of memory";
	case CARTA_EIO:
		return "input/output error";
	case CARTA_EPROTO:
		return "protocol error";
	case CARTA_ECRYPTO:
		return "cryptographic check failed";
	case CARTA_ETIMEDOUT:
		return "timed out";
	case CARTA_ECLOSED:
		return "connection closed by peer";
	case CARTA_EINVAL:
		return "invalid argument";
	case CARTA_ENOENT:
		return "not found";
	case CARTA_EEXIST:
		return "already exists";
	case CARTA_EPERM:
		return "unsafe file permissions";
	case CARTA_EDB:
		return "database error";
	case CARTA_EAUTH:
		return "key not accepted by the server";
	case CARTA_ESTATUS:
		return "request refused by the server";
	case CARTA_ETOOBIG:
		return "message too large";
	case CARTA_ESTATE:
		return "call made in the wrong state";
	case CARTA_ECONFLICT:
		return "changed since it was read";
	case CARTA_EGONE:
		return "erased";
	default:
		return "unknown error";
	}
}
