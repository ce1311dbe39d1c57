/* carta customer erase: an admin removes a person's personal data. */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"

static int show_erased(const cli_args *a, void *ud,
		       const Carta__V1__Response *r)
{
	(void)ud;
	if (r->body_case != CARTA__V1__RESPONSE__BODY_ERASE_RESULT)
		return 0;
	const Carta__V1__EraseResult *e = r->erase_result;
	if (a->json) {
		json_t *o = json_object();
		json_object_set_new(o, "number", cli_json_str(e->number));
		json_object_set_new(
		    o, "audit_entries_redacted",
		    json_integer((json_int_t)e->audit_entries_redacted));
		json_object_set_new(
		    o, "suppressions_added",
		    json_integer((json_int_t)e->suppressions_added));
		return cli_print_json(a, o);
	}
	printf("erased %s\n", cli_safe(e->number));
	printf("  audit entries redacted: %" PRIu64 "\n",
	       e->audit_entries_redacted);
	printf("  suppressions added:     %" PRIu64 "\n",
	       e->suppressions_added);
	return 0;
}

int cmd_customer_erase(const cli_args *a)
{
	Carta__V1__EraseRequest er = CARTA__V1__ERASE_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	er.ref = (char *)a->pos[0];
	er.reason = (char *)a->reason;
	req.body_case = CARTA__V1__REQUEST__BODY_ERASE;
	req.erase = &er;

	/* Not sent again after a lost connection: a second erasure would
	 * be harmless but audited twice. */
	cli_handler h = {.each = show_erased};
	return cli_request(a, &req, &h);
}
