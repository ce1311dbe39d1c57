#include "policy.h"

#include "carta_error.h"

int policy_check_request(const store_principal *caller,
			 const Carta__V1__Request *req, const char **why)
{
	if (caller->state != STORE_STATE_ACTIVE) {
		*why = "principal is revoked";
		return CARTA_EPERM;
	}

	switch (req->body_case) {
	case CARTA__V1__REQUEST__BODY_PING:
		return 0;
	case CARTA__V1__REQUEST__BODY_ENROL:
	case CARTA__V1__REQUEST__BODY_REVOKE:
	case CARTA__V1__REQUEST__BODY_LIST_PRINCIPALS:
		if (caller->role == STORE_ROLE_ADMIN)
			return 0;
		*why = "only admins may manage principals";
		return CARTA_EPERM;
	default:
		/* A request kind added without a rule here is refused. */
		*why = "no policy covers this request";
		return CARTA_EPERM;
	}
}
