/* dedup requests. */
#include "dispatch.h"

bool handlers_dedup(dispatch_call *call)
{
	(void)call;
	return false;
}
