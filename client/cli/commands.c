/* The command tree of carta: names, help texts, the options each command
 * takes, and the function that runs it. */
#include "cli.h"

#define SUBS(list) .subs = list, .nsubs = sizeof list / sizeof list[0]

static const cli_cmd department_cmds[] = {
    {
	.name = "add",
	.summary = "add a department",
	.synopsis = "NAME",
	.about = "Adds department NAME. It may read and write nothing until "
		 "'carta admin policy set' grants it sections.",
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "NAME",
	.run = cmd_department_add,
    },
    {
	.name = "list",
	.summary = "list the departments",
	.synopsis = "[--json]",
	.about = "Lists the departments and when each was added.",
	.run = cmd_department_list,
    },
};

static const cli_cmd policy_cmds[] = {
    {
	.name = "set",
	.summary = "set what a department may do with a section",
	.synopsis = "DEPT SECTION none|read|write",
	.about = "Sets the access of department DEPT to SECTION of every "
		 "card: none, read, or write (which implies read). SECTION "
		 "is identity, contact, demographics, purchases, "
		 "preferences, interactions, notes or consent.",
	.min_pos = 3,
	.max_pos = 3,
	.pos_name = "DEPT SECTION ACCESS",
	.check = check_policy_set,
	.run = cmd_policy_set,
    },
    {
	.name = "show",
	.summary = "show the policy: sections by departments",
	.synopsis = "[--json]",
	.about = "Shows what each department may do with each section of a "
		 "card, as a table with a row per section and a column per "
		 "department. With --json, an object of departments, each "
		 "an object of sections.",
	.run = cmd_policy_show,
    },
};

static const cli_cmd admin_cmds[] = {
    {
	.name = "stats",
	.summary = "how current the cards are",
	.synopsis = "[--older-than AGE]",
	.about = "Cards, the share whose contact was verified within the "
		 "period (default 365d), merged and erased cards.",
	.opts = OPT(O_OLDER_THAN),
	.run = cmd_admin_stats,
    },
    {
	.name = "enrol",
	.summary = "enrol a principal's public key",
	.synopsis = "NAME --department DEPT [--admin] "
		    "(--out FILE | --public-key KEY)",
	.about = "Enrols principal NAME of department DEPT as a member (an "
		 "admin with --admin). With --out, makes a new key pair "
		 "here, enrols it, and writes a ready profile for NAME to "
		 "FILE (mode 0600), with the server address and key of your "
		 "own profile. With --public-key, enrols a key made "
		 "elsewhere with 'carta keygen'.",
	.opts =
	    OPT(O_DEPARTMENT) | OPT(O_ADMIN) | OPT(O_OUT) | OPT(O_PUBLIC_KEY),
	.required = OPT(O_DEPARTMENT),
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "NAME",
	.check = check_admin_enrol,
	.run = cmd_admin_enrol,
    },
    {
	.name = "revoke",
	.summary = "revoke a principal (its connections close at once)",
	.synopsis = "NAME",
	.about = "Revokes principal NAME: its key is refused from now on and "
		 "its open connections are closed.",
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "NAME",
	.run = cmd_admin_revoke,
    },
    {
	.name = "principals",
	.summary = "list the principals",
	.synopsis = "[--json]",
	.about = "Lists every principal: name, department, role, state, key "
		 "fingerprint and when it was enrolled.",
	.run = cmd_admin_principals,
    },
    {
	.name = "department",
	.summary = "add and list departments",
	.synopsis = "COMMAND [ARGS]",
	.about = "The departments principals belong to.",
	SUBS(department_cmds),
    },
    {
	.name = "policy",
	.summary = "set and show what each department may do",
	.synopsis = "COMMAND [ARGS]",
	.about = "The policy: per department and section of a card, none, "
		 "read or write.",
	SUBS(policy_cmds),
    },
};

static const cli_cmd customer_cmds[] = {
    {
	.name = "add",
	.summary = "add a customer's card",
	.synopsis = "[--given-name X] [--family-name X] [--company X] "
		    "[--status S] [--home-branch B] [--email ADDR]... "
		    "[--phone NUM]... [--birth-date D] [--language L] "
		    "[--request-key K] [--force] | --from-json FILE [--force]",
	.about = "Adds a card and prints it with the customer number the "
		 "server gives it. The options fill the identity, contact "
		 "and demographics sections (only those given are sent); "
		 "the first --email and --phone are marked primary. With "
		 "--from-json, the whole card comes from a JSON file in the "
		 "format of docs/CARD.md. A retry with the same request key "
		 "returns the first card instead of adding another.",
	.opts = OPT(O_GIVEN_NAME) | OPT(O_FAMILY_NAME) | OPT(O_COMPANY) |
		OPT(O_STATUS) | OPT(O_HOME_BRANCH) | OPT(O_EMAIL) |
		OPT(O_PHONE) | OPT(O_BIRTH_DATE) | OPT(O_LANGUAGE) |
		OPT(O_FROM_JSON) | OPT(O_REQUEST_KEY) | OPT(O_FORCE),
	.check = check_customer_add,
	.run = cmd_customer_add,
    },
    {
	.name = "show",
	.summary = "show a customer's card",
	.synopsis = "REF [--json]",
	.about = "Shows the card of REF: a customer number (C-000001), a "
		 "card id (32 hex digits), an email address or a phone "
		 "number. Only the sections your department may read are "
		 "shown; the others are named as withheld. The version of "
		 "each section is the one to give to 'customer edit "
		 "--if-version'.",
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_customer_show,
    },
    {
	.name = "edit",
	.summary = "change fields of one section of a card",
	.synopsis = "REF --section S --set FIELD=VALUE [--set ...] "
		    "--if-version N",
	.about = "Changes fields of section S (identity, contact or "
		 "demographics; custom.NAME also in preferences and "
		 "consent) of REF's card, all or none. "
		 "FIELD is a path inside the section: given_name, "
		 "emails.0.address, phones.1.number, addresses.0.city; "
		 "'phones.1=' with nothing after '=' removes that item. N is "
		 "the section's version as 'customer show' printed it; when "
		 "someone changed the section since, nothing is changed and "
		 "the command fails with a conflict.",
	.opts = OPT(O_SECTION) | OPT(O_SET) | OPT(O_IF_VERSION) | OPT(O_SOURCE),
	.required = OPT(O_SECTION) | OPT(O_SET) | OPT(O_IF_VERSION),
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.check = check_customer_edit,
	.run = cmd_customer_edit,
    },
    {
	.name = "archive",
	.summary = "archive a customer's card",
	.synopsis = "REF",
	.about = "Sets the status of REF's card to archived.",
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_customer_archive,
    },
    {
	.name = "export",
	.summary = "everything held about one customer, as JSON",
	.synopsis = "REF [--out FILE]",
	.about = "Writes one JSON document with the whole card of REF and "
		 "every purchase, interaction and note (a data-subject "
		 "access request), within what your department may read, "
		 "and the card's audit (every change, with old and new "
		 "values) for an admin; for a department the audit is "
		 "withheld, and the document says so.",
	.opts = OPT(O_OUT),
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_customer_export,
    },
    {
	.name = "erase",
	.summary = "erase a person's personal data (admins)",
	.synopsis = "REF --reason TEXT",
	.about = "Removes the personal data of REF's card from every section, "
		 "the search index and the audit log's old and new values, "
		 "leaving an audit record of the erasure (who, when, why). A "
		 "later import of the same email or phone is reported, not "
		 "applied.",
	.opts = OPT(O_REASON),
	.required = OPT(O_REASON),
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_customer_erase,
    },
};

static const cli_cmd purchase_cmds[] = {
    {
	.name = "add",
	.summary = "record a purchase",
	.synopsis = "REF --product TEXT --amount 49.90 --currency EUR "
		    "[--date D] [--quantity N] [--channel C] [--remarks T] "
		    "[--refund] [--request-key K]",
	.about = "Records a purchase on REF's card. The amount is the "
		 "total, with at most as many decimals as the currency has "
		 "(EUR 2, JPY 0, KWD 3); a refund is recorded with --refund "
		 "and the amount that went back, never a negative one. A "
		 "random request key is sent unless "
		 "one is given, so that sending again after a lost "
		 "connection never records the purchase twice.",
	.opts = OPT(O_PRODUCT) | OPT(O_AMOUNT) | OPT(O_CURRENCY) | OPT(O_DATE) |
		OPT(O_QUANTITY) | OPT(O_CHANNEL) | OPT(O_REMARKS) |
		OPT(O_REFUND) | OPT(O_REQUEST_KEY),
	.required = OPT(O_PRODUCT) | OPT(O_AMOUNT) | OPT(O_CURRENCY),
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.check = check_purchase_add,
	.run = cmd_purchase_add,
    },
    {
	.name = "list",
	.summary = "list a customer's purchases",
	.synopsis = "REF [--limit N] [--cursor C] [--all]",
	.about = "Lists REF's purchases, most recent first, one page (or "
		 "every page with --all). With --json, one object per line.",
	.opts = CLI_PAGE_OPTS,
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_purchase_list,
    },
};

static const cli_cmd interaction_cmds[] = {
    {
	.name = "add",
	.summary = "log a call, email, visit or complaint",
	.synopsis = "REF --channel C --summary T [--outcome O] "
		    "[--satisfaction 1-5] [--at TIME] [--request-key K]",
	.about =
	    "Logs an interaction with REF. The channel is phone, "
	    "email, visit, chat, letter, sms or other; your department and "
	    "name are recorded as its author.",
	.opts = OPT(O_CHANNEL) | OPT(O_SUMMARY) | OPT(O_OUTCOME) |
		OPT(O_SATISFACTION) | OPT(O_AT) | OPT(O_REQUEST_KEY),
	.required = OPT(O_CHANNEL) | OPT(O_SUMMARY),
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.check = check_interaction_add,
	.run = cmd_interaction_add,
    },
    {
	.name = "list",
	.summary = "list a customer's interactions",
	.synopsis = "REF [--limit N] [--cursor C] [--all]",
	.about = "Lists REF's interactions, most recent first.",
	.opts = CLI_PAGE_OPTS,
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_interaction_list,
    },
};

static const cli_cmd note_cmds[] = {
    {
	.name = "add",
	.summary = "add a note to a card",
	.synopsis = "REF TEXT [--request-key K]",
	.about = "Adds a free observation to REF's card.",
	.opts = OPT(O_REQUEST_KEY),
	.min_pos = 2,
	.max_pos = 2,
	.pos_name = "REF TEXT",
	.run = cmd_note_add,
    },
    {
	.name = "list",
	.summary = "list a card's notes",
	.synopsis = "REF [--limit N] [--cursor C] [--all]",
	.about = "Lists the notes on REF's card, most recent first.",
	.opts = CLI_PAGE_OPTS,
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_note_list,
    },
};

static const cli_cmd consent_cmds[] = {
    {
	.name = "set",
	.summary = "record a consent granted or withdrawn",
	.synopsis = "REF --purpose P --channel C granted|withdrawn "
		    "[--source S]",
	.about = "Records that REF granted or withdrew consent for purpose "
		 "P (marketing, newsletter, profiling, ...) on channel C "
		 "(email, phone, sms, post), and how (--source: form, "
		 "phone, shop, ...).",
	.opts = OPT(O_PURPOSE) | OPT(O_CHANNEL) | OPT(O_SOURCE),
	.required = OPT(O_PURPOSE) | OPT(O_CHANNEL),
	.min_pos = 2,
	.max_pos = 2,
	.pos_name = "REF STATE",
	.check = check_consent_set,
	.run = cmd_consent_set,
    },
    {
	.name = "list",
	.summary = "list a customer's consents",
	.synopsis = "REF [--json]",
	.about = "Lists REF's consents per purpose and channel.",
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_consent_list,
    },
};

static const cli_cmd pref_cmds[] = {
    {
	.name = "set",
	.summary = "set a preference",
	.synopsis = "REF KEY VALUE",
	.about = "Sets preference KEY of REF's card to VALUE.",
	.min_pos = 3,
	.max_pos = 3,
	.pos_name = "REF KEY VALUE",
	.run = cmd_pref_set,
    },
    {
	.name = "unset",
	.summary = "remove a preference",
	.synopsis = "REF KEY",
	.about = "Removes preference KEY from REF's card.",
	.min_pos = 2,
	.max_pos = 2,
	.pos_name = "REF KEY",
	.run = cmd_pref_unset,
    },
};

static const cli_cmd field_cmds[] = {
    {
	.name = "define",
	.summary = "define a custom field (admins)",
	.synopsis = "NAME --type text|number|date|bool|choice --section S "
		    "[--max-length N] [--choice X]...",
	.about = "Defines custom field NAME (lower case letters, digits "
		 "and '_'). Its values belong to section S (identity, "
		 "contact, demographics, preferences or consent): the "
		 "policy of S "
		 "says who may read and write them. A text field holds at "
		 "most --max-length characters (200 by default); a choice "
		 "field one of its --choice values.",
	.opts =
	    OPT(O_TYPE) | OPT(O_SECTION) | OPT(O_MAX_LENGTH) | OPT(O_CHOICE),
	.required = OPT(O_TYPE) | OPT(O_SECTION),
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "NAME",
	.check = check_field_define,
	.run = cmd_field_define,
    },
    {
	.name = "list",
	.summary = "list the custom fields",
	.synopsis = "[--json]",
	.about = "Lists the custom fields with their type, section and "
		 "validation.",
	.run = cmd_field_list,
    },
    {
	.name = "set",
	.summary = "set a custom field of a card",
	.synopsis = "REF NAME VALUE",
	.about = "Sets custom field NAME of REF's card to VALUE, checked "
		 "against the field's type.",
	.min_pos = 3,
	.max_pos = 3,
	.pos_name = "REF NAME VALUE",
	.run = cmd_field_set,
    },
};

#define IMPORT_OPTS                                                            \
	OPT(O_DRY_RUN) | OPT(O_PROGRESS) | OPT(O_FORCE) | OPT(O_UPDATE_ONLY)

static const cli_cmd import_cmds[] = {
    {
	.name = "csv",
	.summary = "import customers from a CSV file",
	.synopsis = "FILE [--mapping FILE] [--encoding E] [--delimiter C] "
		    "[--date-format F] [--upsert-by email|number|external-id] "
		    "[--update-only] [--force] [--skip-bad-phones] [--dry-run] "
		    "[--progress]",
	.about = "Reads customers from FILE. Common layouts are mapped "
		 "automatically: Google Contacts, Outlook, Thunderbird, and "
		 "files with headers such as First Name, Email, Phone; "
		 "other headers need --mapping, see docs/IMPORT.md. Every row "
		 "is imported, updated by its "
		 "key, or rejected with its line number and the reason; "
		 "good rows land in atomic batches. --dry-run reports the "
		 "same without writing.",
	.opts = OPT(O_MAPPING) | OPT(O_ENCODING) | OPT(O_DELIMITER) |
		OPT(O_DATE_FORMAT) | OPT(O_UPSERT_BY) | OPT(O_SKIP_BAD_PHONES) |
		IMPORT_OPTS,
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "FILE",
	.check = check_import,
	.run = cmd_import_csv,
    },
    {
	.name = "purchases",
	.summary = "import purchases from a transactions file",
	.synopsis = "FILE [--currency CODE] [--mapping FILE] [--encoding E] "
		    "[--delimiter C] [--date-format F] [--update-only] "
		    "[--force] [--dry-run] [--progress]",
	.about = "Reads line items: invoice, product code, description, "
		 "quantity, unit price, date, customer key, country. Groups "
		 "them per invoice into purchases of the card whose "
		 "external id is the customer key (creating it when "
		 "missing, unless --update-only). Cancellations are recorded "
		 "as refunds; rows without a customer key are reported and "
		 "skipped. An invoice with a bad row is rejected whole.",
	.opts = OPT(O_MAPPING) | OPT(O_ENCODING) | OPT(O_DELIMITER) |
		OPT(O_DATE_FORMAT) | OPT(O_CURRENCY) | IMPORT_OPTS,
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "FILE",
	.check = check_import,
	.run = cmd_import_purchases,
    },
    {
	.name = "vcard",
	.summary = "import customers from vCards (2.1, 3.0, 4.0)",
	.synopsis =
	    "FILE [--encoding E] [--upsert-by email|number|external-id] "
	    "[--update-only] [--force] [--skip-bad-phones] [--dry-run] "
	    "[--progress]",
	.about = "Reads every card of FILE. Broken cards are reported with "
		 "their line and skipped without losing the rest; photos "
		 "are not imported (the summary says so).",
	.opts = OPT(O_UPSERT_BY) | OPT(O_ENCODING) | OPT(O_SKIP_BAD_PHONES) |
		IMPORT_OPTS,
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "FILE",
	.check = check_import,
	.run = cmd_import_vcard,
    },
    {
	.name = "json",
	.summary = "import cards from JSON lines ('carta export json')",
	.synopsis = "FILE [--upsert-by email|number|external-id] "
		    "[--update-only] [--force] [--skip-bad-phones] [--dry-run] "
		    "[--progress]",
	.about = "Reads one card per line in the format of docs/CARD.md, "
		 "with its purchases, interactions and notes.",
	.opts = OPT(O_UPSERT_BY) | OPT(O_SKIP_BAD_PHONES) | IMPORT_OPTS,
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "FILE",
	.check = check_import,
	.run = cmd_import_json,
    },
};

#define EXPORT_OPTS OPT(O_WHERE) | OPT(O_SEGMENT) | OPT(O_CHANNEL) | OPT(O_OUT)

static const cli_cmd export_cmds[] = {
    {
	.name = "csv",
	.summary = "all cards you may read, as CSV",
	.synopsis =
	    "[--where EXPR | --segment NAME] [--channel C] [--out FILE]",
	.about = "One row per card, always the same columns; the cells of "
		 "sections your department may not read are empty. Cells "
		 "that a spreadsheet would run as a formula are neutralised "
		 "with a leading quote, which 'carta import csv' removes. "
		 "--channel (email, phone, sms or post, or PURPOSE.CHANNEL: "
		 "marketing.email) keeps the cards consenting to it and "
		 "reachable on it.",
	.opts = EXPORT_OPTS,
	.check = check_export,
	.run = cmd_export_csv,
    },
    {
	.name = "vcard",
	.summary = "all cards you may read, as vCard 4.0",
	.synopsis =
	    "[--where EXPR | --segment NAME] [--channel C] [--out FILE]",
	.about = "One vCard 4.0 per card. --channel (email, phone, sms or "
		 "post, or PURPOSE.CHANNEL: marketing.email) keeps the cards "
		 "consenting to it and reachable on it.",
	.opts = EXPORT_OPTS,
	.check = check_export,
	.run = cmd_export_vcard,
    },
    {
	.name = "json",
	.summary = "all cards you may read, as JSON lines",
	.synopsis =
	    "[--where EXPR | --segment NAME] [--channel C] [--out FILE]",
	.about = "One card per line (docs/CARD.md) with every purchase, "
		 "interaction and note; 'carta import json' reads it back. "
		 "--channel (email, phone, sms or post, or PURPOSE.CHANNEL: "
		 "marketing.email) keeps the cards consenting to it and "
		 "reachable on it.",
	.opts = EXPORT_OPTS,
	.check = check_export,
	.run = cmd_export_json,
    },
};

static const cli_cmd segment_cmds[] = {
    {
	.name = "save",
	.summary = "save a filter under a name",
	.synopsis = "NAME EXPR",
	.about = "Saves EXPR (docs/QUERIES.md) as a segment of your "
		 "department; saving a name again replaces it.",
	.min_pos = 2,
	.max_pos = 2,
	.pos_name = "NAME EXPR",
	.run = cmd_segment_save,
    },
    {
	.name = "list",
	.summary = "list your department's segments",
	.synopsis = "",
	.about = "Lists the segments of your department.",
	.run = cmd_segment_list,
    },
    {
	.name = "show",
	.summary = "show a segment",
	.synopsis = "NAME",
	.about = "Shows the filter of a segment and who saved it.",
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "NAME",
	.run = cmd_segment_show,
    },
    {
	.name = "run",
	.summary = "list the cards of a segment",
	.synopsis = "NAME [--channel C] [--sort FIELDS] [--limit N] "
		    "[--cursor C] [--all] [--count]",
	.about = "Lists the cards matching the segment's filter; with "
		 "--channel (email, phone, sms, post, or PURPOSE.CHANNEL such "
		 "as marketing.email) only those consenting to that channel "
		 "and reachable on it.",
	.opts =
	    OPT(O_CHANNEL) | OPT(O_SORT) | OPT(O_COUNT_ONLY) | CLI_PAGE_OPTS,
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "NAME",
	.run = cmd_segment_run,
    },
    {
	.name = "delete",
	.summary = "delete a segment",
	.synopsis = "NAME",
	.about = "Deletes a segment of your department.",
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "NAME",
	.run = cmd_segment_delete,
    },
};

static const cli_cmd dedup_cmds[] = {
    {
	.name = "scan",
	.summary = "list cards that look like one person",
	.synopsis = "[--min-score S] [--where EXPR] [--limit N] [--cursor C] "
		    "[--all]",
	.about = "Pairs of cards, best first, with the evidence: the same "
		 "email or phone, or similar names together with the same "
		 "birth date, postal code, city or company. Pairs that share "
		 "a card share a group. See docs/DEDUP.md.",
	.opts = OPT(O_MIN_SCORE) | OPT(O_WHERE) | CLI_PAGE_OPTS,
	.run = cmd_dedup_scan,
    },
};

static const cli_cmd verify_cmds[] = {
    {
	.name = "due",
	.summary = "cards due for confirmation",
	.synopsis = "[--older-than AGE] [--section S] [--limit N] [--cursor C] "
		    "[--all]",
	.about = "Cards whose section or contact points were not confirmed "
		 "for AGE (default 365d), with the channel each prefers and "
		 "has consented to, to ask by.",
	.opts = OPT(O_OLDER_THAN) | OPT(O_SECTION) | CLI_PAGE_OPTS,
	.run = cmd_verify_due,
    },
    {
	.name = "confirm",
	.summary = "record that a customer confirmed their data",
	.synopsis = "REF [--section S] --source phone|email|visit|form",
	.about = "Marks the section (default: every section you may write) "
		 "and its contact points verified now, by that source.",
	.opts = OPT(O_SECTION) | OPT(O_SOURCE),
	.required = OPT(O_SOURCE),
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "REF",
	.run = cmd_verify_confirm,
    },
};

static const cli_cmd root_cmds[] = {
    {
	.name = "keygen",
	.summary = "make a key pair for this user",
	.synopsis = "--out FILE",
	.about = "Makes a key pair. Writes the secret key to FILE (mode "
		 "0600) and the public key to FILE.pub; existing files are "
		 "never overwritten. Give the public key to an admin to "
		 "enrol, and use FILE with --key.",
	.opts = OPT(O_OUT),
	.required = OPT(O_OUT),
	.run = cmd_keygen,
    },
    {
	.name = "ping",
	.summary = "check the connection and show who you are",
	.synopsis = "[--count N] [--pipeline]",
	.about = "Connects, pings the server N times, and prints the "
		 "server's version and what it knows about you, with the "
		 "round-trip time.",
	.opts = OPT(O_COUNT) | OPT(O_PIPELINE),
	.run = cmd_ping,
    },
    {
	.name = "customer",
	.summary = "add, show, edit, archive, export and erase cards",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "A customer's card: identity, contact, demographics, "
		 "purchases, preferences, interactions, notes, consents and "
		 "custom fields. REF names a card by customer number, id, "
		 "email or phone.",
	SUBS(customer_cmds),
    },
    {
	.name = "purchase",
	.summary = "record and list purchases",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "A customer's purchases.",
	SUBS(purchase_cmds),
    },
    {
	.name = "interaction",
	.summary = "log and list calls, emails, visits, complaints",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "A customer's interactions with the company.",
	SUBS(interaction_cmds),
    },
    {
	.name = "note",
	.summary = "add and list notes",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "Free observations on a card.",
	SUBS(note_cmds),
    },
    {
	.name = "consent",
	.summary = "record and list consents",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "A customer's consents, per purpose and channel.",
	SUBS(consent_cmds),
    },
    {
	.name = "pref",
	.summary = "set and remove preferences",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "Free key/value preferences of a card.",
	SUBS(pref_cmds),
    },
    {
	.name = "field",
	.summary = "define, list and set custom fields",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "Custom fields that an admin defines for the business.",
	SUBS(field_cmds),
    },
    {
	.name = "audit",
	.summary = "read the audit log (admins)",
	.synopsis = "[--customer REF] [--principal NAME] [--since TIME] "
		    "[--limit N] [--cursor C] [--all]",
	.about = "Shows who changed what and when: time, principal, "
		 "department, card, section, action, and the old and new "
		 "values. TIME is 2026-12-01, 2026-12-01T10:00:00Z or a "
		 "time ago such as -7d or -24h.",
	.opts =
	    OPT(O_CUSTOMER) | OPT(O_PRINCIPAL) | OPT(O_SINCE) | CLI_PAGE_OPTS,
	.check = check_audit,
	.run = cmd_audit,
    },
    {
	.name = "search",
	.summary = "find cards by text and filters",
	.synopsis = "[TEXT] [--where EXPR] [--segment NAME] "
		    "[--sort FIELD[,-FIELD]] [--channel C] [--limit N] "
		    "[--cursor C] [--all] [--count]",
	.about = "Finds cards whose names, company, emails, city or phones "
		 "match TEXT, ignoring case and accents (a word may be the "
		 "start of one: 'garc' finds García), best first; --where "
		 "filters (docs/QUERIES.md); --channel keeps only cards "
		 "consenting to it and reachable on it.",
	.opts = OPT(O_WHERE) | OPT(O_SORT) | OPT(O_COUNT_ONLY) |
		OPT(O_SEGMENT) | OPT(O_CHANNEL) | CLI_PAGE_OPTS,
	.max_pos = CLI_MAX_POS,
	.pos_name = "TEXT",
	.run = cmd_search,
    },
    {
	.name = "segment",
	.summary = "save, list, show, run and delete segments",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "Named filters of your department, for searches, exports "
		 "and reports.",
	SUBS(segment_cmds),
    },
    {
	.name = "dedup",
	.summary = "find duplicate cards",
	.synopsis = "COMMAND [OPTIONS]",
	.about = "The duplicate check that runs on every create and import, "
		 "over the whole store.",
	SUBS(dedup_cmds),
    },
    {
	.name = "merge",
	.summary = "merge two cards of one person",
	.synopsis = "SURVIVOR OTHER [--prefer SECTION.FIELD=other]... "
		    "[--dry-run]",
	.about = "Moves every contact point, purchase, interaction, note, "
		 "consent and custom value of OTHER to SURVIVOR in one step; "
		 "OTHER stays as a pointer to SURVIVOR. A non-empty value is "
		 "never replaced by an empty one; values that lose are kept "
		 "in the card's history. --dry-run prints exactly what the "
		 "merge will do. See docs/MERGE.md.",
	.opts = OPT(O_PREFER) | OPT(O_DRY_RUN),
	.min_pos = 2,
	.max_pos = 2,
	.pos_name = "SURVIVOR OTHER",
	.run = cmd_merge,
    },
    {
	.name = "unmerge",
	.summary = "undo a merge",
	.synopsis = "MERGE-ID",
	.about = "Restores both cards as they were, when no later edit "
		 "touched what the merge changed; otherwise refuses and says "
		 "what changed.",
	.min_pos = 1,
	.max_pos = 1,
	.pos_name = "MERGE-ID",
	.run = cmd_unmerge,
    },
    {
	.name = "verify",
	.summary = "cards due for confirmation, and confirmations",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "How current each card is.",
	SUBS(verify_cmds),
    },
    {
	.name = "import",
	.summary = "import customers and purchases from files",
	.synopsis = "COMMAND FILE [OPTIONS]",
	.about = "CSV, vCard and JSON files, and transaction files of "
		 "purchases.",
	SUBS(import_cmds),
    },
    {
	.name = "export",
	.summary = "export the cards you may read",
	.synopsis = "COMMAND [OPTIONS]",
	.about = "CSV, vCard 4.0 or JSON lines, of every card you may "
		 "read or of a filter or segment; only the sections your "
		 "department may read.",
	SUBS(export_cmds),
    },
    {
	.name = "admin",
	.summary = "administer principals, departments and the policy",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "Commands for admins.",
	SUBS(admin_cmds),
    },
};

const cli_cmd cli_root = {
    .name = "carta",
    .synopsis = "[OPTIONS] COMMAND [ARGS]",
    .about = "The client of a Carta server (cartad). Where the server "
	     "is, its key and yours come from a profile: --profile FILE, "
	     "else $CARTA_PROFILE, else ~/.config/carta/profile; --server, "
	     "--server-key and --key override it.",
    .opts = OPT(O_VERSION),
    .subs = root_cmds,
    .nsubs = sizeof root_cmds / sizeof root_cmds[0],
};
