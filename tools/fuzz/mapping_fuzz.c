/* Fuzz target: a mapping file (docs/IMPORT.md) as `carta import csv
 * --mapping` and `carta import purchases --mapping` read it, applied to a
 * small fixed CSV file, so that both the INI reading and what the entries
 * do to the columns are exercised. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char csv[] =
    "Name,Surname,Mail,Tel,Born,Country,Invoice,Qty,Price,When,Who\n"
    "Ana,Ruiz,ana@example.es,612345678,01/02/1990,Spain,A1,2,3.50,"
    "2011-03-10,7\n"
    "Luc,Roy,luc@example.fr,0612345678,1990-02-01,FR,A1,1,1.00,"
    "2011-03-10,7\n";

static int write_temp(char *path, const void *data, size_t size)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char map[] = "/tmp/carta_mapping_fuzz_XXXXXX";
	char file[] = "/tmp/carta_mapping_csv_XXXXXX";
	import_opts o = {.currency = "EUR"};

	if (write_temp(map, data, size) != 0)
		return 0;
	if (write_temp(file, csv, sizeof csv - 1) == 0) {
		o.mapping = map;
		fuzz_drain(&import_csv_reader, file, &o);
		fuzz_drain(&import_purchases_reader, file, &o);
		unlink(file);
	}
	unlink(map);
	return 0;
}
