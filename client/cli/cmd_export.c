/* carta export and carta customer export. */
#include "cli.h"

int check_export(const cli_args *a, char *err, size_t errlen) { (void)a; (void)err; (void)errlen; return 0; }
int cmd_export_csv(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_export_vcard(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_export_json(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_customer_export(const cli_args *a) { return cli_fail(a, "not built yet"); }
