/* carta import: reads records with an import_reader, sends them in
 * batches and accounts for every one. */
#include "cli.h"
#include "import.h"

int check_import(const cli_args *a, char *err, size_t errlen) { (void)a; (void)err; (void)errlen; return 0; }
int cmd_import_csv(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_import_purchases(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_import_vcard(const cli_args *a) { return cli_fail(a, "not built yet"); }
int cmd_import_json(const cli_args *a) { return cli_fail(a, "not built yet"); }
