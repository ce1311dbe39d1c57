/* CSV readers for carta import: customers and purchases. */
#include "import.h"

const import_reader import_csv_reader = {.name = "csv"};
const import_reader import_purchases_reader = {.name = "purchases"};
