/* verify requests. */
#include "dispatch.h"

bool handlers_verify(dispatch_call *call)
{
	(void)call;
	return false;
}
