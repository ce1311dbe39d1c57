/* carta: the command-line client of a Carta server. The command tree is
 * in commands.c; each command lives in a cmd_*.c file. */
#include <stdio.h>

#include <sodium.h>

#include "cli.h"

int main(int argc, char **argv)
{
	char err[CLI_ERR_MAX];
	cli_args a;
	int rv;

	rv = cli_parse(&cli_root, argc, argv, &a, err, sizeof err);
	if (rv != 0) {
		fprintf(stderr, "carta: %s\n", err);
		return rv;
	}
	if (a.help) {
		cli_help(a.cmd, a.path, stdout);
		return CLI_EXIT_OK;
	}
	if (a.version) {
		printf("carta %s\n", CARTA_VERSION);
		return CLI_EXIT_OK;
	}
	if (sodium_init() < 0)
		return cli_fail(&a, "cannot initialise libsodium");

	rv = a.cmd->run(&a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "carta: cannot write the output\n");
		return CLI_EXIT_FAIL;
	}
	return rv;
}
