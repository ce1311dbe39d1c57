/* carta verify. */
#include "cli.h"

int cmd_verify_due(const cli_args *a)
{
	return cli_fail(a, "not built yet");
}

int cmd_verify_confirm(const cli_args *a)
{
	return cli_fail(a, "not built yet");
}

int cmd_admin_stats(const cli_args *a)
{
	return cli_fail(a, "not built yet");
}
