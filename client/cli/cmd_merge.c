/* carta merge. */
#include "cli.h"

int cmd_merge(const cli_args *a)
{
	return cli_fail(a, "not built yet");
}

int cmd_unmerge(const cli_args *a)
{
	return cli_fail(a, "not built yet");
}
