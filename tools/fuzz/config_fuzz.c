/* Fuzz target: cartad.conf as the server reads it at start, and the
 * listen address it names, checked and split as the server does. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/carta_config_fuzz_XXXXXX";
	char err[256], host[CONFIG_LISTEN_MAX];
	server_config cfg;
	int fd, port;

	fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		config_defaults(&cfg);
		if (config_load(path, &cfg, err, sizeof err) == 0 &&
		    config_check_listen(cfg.listen, err, sizeof err) == 0)
			config_split_address(cfg.listen, host, sizeof host,
					     &port);
	}
	close(fd);
	unlink(path);
	return 0;
}
