/* Country names, as address books and shop exports write them, to ISO
 * 3166-1 alpha-2 codes, for the CSV import. */
#ifndef CARTA_CLI_CSV_COUNTRY_H
#define CARTA_CLI_CSV_COUNTRY_H

/* The code (static, upper case) of a country's English name, case and
 * punctuation ignored ("United Kingdom", "united-kingdom", "USA",
 * "Korea", "EIRE"), or NULL when the table does not know the name.
 * Codes themselves are not looked up here: see validate_country. */
const char *csv_country_code(const char *name);

#endif
