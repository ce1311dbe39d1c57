/* erase requests. */
#include "dispatch.h"

bool handlers_erase(dispatch_call *call)
{
	(void)call;
	return false;
}
