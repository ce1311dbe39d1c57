/* Who may do what: the one place where the server decides whether a
 * principal may make a request. Every request passes through
 * policy_check_request before a handler runs. */
#ifndef CARTAD_POLICY_H
#define CARTAD_POLICY_H

#include "carta.pb-c.h"
#include "store.h"

/* Returns 0 when caller may make req; otherwise CARTA_EPERM and sets *why
 * to a static English reason. */
int policy_check_request(const store_principal *caller,
			 const Carta__V1__Request *req, const char **why);

#endif
