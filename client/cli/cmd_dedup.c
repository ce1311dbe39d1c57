/* carta dedup. */
#include "cli.h"

int cmd_dedup_scan(const cli_args *a)
{
	return cli_fail(a, "not built yet");
}
