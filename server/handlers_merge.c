/* merge requests. */
#include "dispatch.h"

bool handlers_merge(dispatch_call *call)
{
	(void)call;
	return false;
}
