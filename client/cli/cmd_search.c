/* carta search and carta segment. */
#include "cli.h"

int cmd_search(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_segment_save(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_segment_list(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_segment_show(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_segment_run(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_segment_delete(const cli_args *a) { return cli_fail(a, "not built yet"); }
