/* Queries and segments: text search, filters, sorting, counts. */
#include "dispatch.h"

bool handlers_query(dispatch_call *call)
{
	(void)call;
	return false;
}
