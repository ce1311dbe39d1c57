/* JSON lines reader for carta import json. */
#include "import.h"

const import_reader import_json_reader = {.name = "json"};
