/* cartad: the Carta server. */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "init.h"
#include "server.h"

static const char usage[] =
    "usage: cartad init --data DIR [--listen HOST:PORT]\n"
    "       cartad --data DIR [--listen HOST:PORT]\n"
    "\n"
    "  init        create a data directory: server key pair, database,\n"
    "              config file and the first admin's profile\n"
    "  --data DIR  the data directory\n"
    "  --listen    address to listen on: an IP address and a port,\n"
    "              [IPv6]:PORT for IPv6 (default 127.0.0.1:7420; port 0\n"
    "              picks a free port, written to DIR/cartad.addr)\n"
    "  --version   print the version\n";

int main(int argc, char **argv)
{
	const char *data = NULL, *listen = NULL;
	int init = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "init") == 0 && i == 1) {
			init = 1;
		} else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
			data = argv[++i];
		} else if (strcmp(a, "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("cartad %s\n", CARTA_VERSION);
			return 0;
		} else {
			fprintf(stderr,
				"cartad: unknown or incomplete "
				"argument '%s'\n%s",
				a, usage);
			return 2;
		}
	}
	if (data == NULL) {
		fprintf(stderr, "cartad: --data DIR is required\n%s", usage);
		return 2;
	}
	/* A peer that resets its connection must not kill the server: writes
	 * to it fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "cartad: libsodium failed to initialise\n");
		return 1;
	}

	if (init) {
		char def[32];
		snprintf(def, sizeof(def), "127.0.0.1:%d", CARTA_DEFAULT_PORT);
		return init_data_dir(data, listen ? listen : def);
	}
	return server_run(data, listen);
}
