/* carta merge and carta unmerge (docs/MERGE.md): the plan as one line per
 * change, then the merge id; with --json the MergePlan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_enum.h"
#include "card_json.h"
#include "cli.h"

static int print_plan(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	const char *done = ud;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_MERGE_PLAN ||
	    r->merge_plan == NULL)
		return cli_fail(a, "the server answered with something else");
	const Carta__V1__MergePlan *p = r->merge_plan;
	if (a->json)
		return cli_print_json(a, card_json_from_msg(&p->base));
	for (size_t i = 0; i < p->n_changes; i++) {
		const Carta__V1__MergeChange *c = p->changes[i];
		printf("%-12s %-22s %-8s %s\n",
		       card_enum_name(card_enum_sections, (int)c->section),
		       cli_safe(c->field[0] ? c->field : "-"),
		       cli_safe(c->action), cli_safe(c->detail));
	}
	if (p->merge_id[0] != '\0')
		printf("%s %s: %s and %s\n", done, cli_safe(p->merge_id),
		       cli_safe(p->survivor), cli_safe(p->other));
	else
		printf("dry run: %s into %s, nothing written\n",
		       cli_safe(p->other), cli_safe(p->survivor));
	return 0;
}

/* --prefer SECTION.FIELD=other (other's value wins there); =survivor is
 * what happens anyway and is accepted for symmetry. */
int cmd_merge(const cli_args *a)
{
	Carta__V1__MergeRequest m = CARTA__V1__MERGE_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	char *prefer[CLI_LIST_MAX];
	size_t n = 0;
	int rv = 0;

	for (int i = 0; i < a->prefers.n; i++) {
		const char *v = a->prefers.v[i];
		const char *eq = strrchr(v, '=');
		if (eq == NULL || eq == v ||
		    (strcmp(eq, "=other") != 0 && strcmp(eq, "=survivor"))) {
			rv = cli_fail(a,
				      "--prefer: '%s' is not "
				      "SECTION.FIELD=other",
				      cli_safe(v));
			break;
		}
		if (strcmp(eq, "=other") != 0)
			continue;
		prefer[n] = strndup(v, (size_t)(eq - v));
		if (prefer[n] == NULL) {
			rv = cli_fail(a, "out of memory");
			break;
		}
		n++;
	}
	if (rv == 0) {
		m.survivor = (char *)a->pos[0];
		m.other = (char *)a->pos[1];
		m.prefer_other = prefer;
		m.n_prefer_other = n;
		m.dry_run = a->dry_run;
		req.body_case = CARTA__V1__REQUEST__BODY_MERGE;
		req.merge = &m;
		/* Not retried: a merge sent twice is refused the second
		 * time (other is merged already). */
		cli_handler h = {.each = print_plan, .ud = (void *)"merge"};
		rv = cli_request(a, &req, &h);
	}
	for (size_t i = 0; i < n; i++)
		free(prefer[i]);
	return rv;
}

int cmd_unmerge(const cli_args *a)
{
	Carta__V1__UnmergeRequest u = CARTA__V1__UNMERGE_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	u.merge_id = (char *)a->pos[0];
	req.body_case = CARTA__V1__REQUEST__BODY_UNMERGE;
	req.unmerge = &u;
	cli_handler h = {.each = print_plan, .ud = (void *)"unmerged"};
	return cli_request(a, &req, &h);
}
