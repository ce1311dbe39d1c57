/* carta erase. */
#include "cli.h"

int cmd_customer_erase(const cli_args *a)
{
	return cli_fail(a, "not built yet");
}
