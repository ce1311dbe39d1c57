/* carta admin department add | list, admin policy set | show, and carta
 * audit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card_enum.h"
#include "cli.h"

int cmd_department_add(const cli_args *a)
{
	Carta__V1__DepartmentAddRequest add =
	    CARTA__V1__DEPARTMENT_ADD_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	add.name = (char *)a->pos[0];
	req.body_case = CARTA__V1__REQUEST__BODY_DEPARTMENT_ADD;
	req.department_add = &add;
	return cli_run(a, &req, false, "added");
}

int cmd_department_list(const cli_args *a)
{
	Carta__V1__Empty empty = CARTA__V1__EMPTY__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	req.body_case = CARTA__V1__REQUEST__BODY_DEPARTMENT_LIST;
	req.department_list = &empty;
	return cli_run(a, &req, true, NULL);
}

int check_policy_set(const cli_args *a, char *err, size_t errlen)
{
	if (cli_check_section("SECTION", a->pos[1], err, errlen) != 0)
		return -1;
	if (card_enum_parse(card_enum_access, a->pos[2]) < 0) {
		snprintf(err, errlen, "'%s' is not none, read or write",
			 a->pos[2]);
		return -1;
	}
	return 0;
}

int cmd_policy_set(const cli_args *a)
{
	Carta__V1__PolicySetRequest set = CARTA__V1__POLICY_SET_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	set.department = (char *)a->pos[0];
	set.section =
	    (Carta__V1__Section)card_enum_parse(card_enum_sections, a->pos[1]);
	set.access =
	    (Carta__V1__Access)card_enum_parse(card_enum_access, a->pos[2]);
	req.body_case = CARTA__V1__REQUEST__BODY_POLICY_SET;
	req.policy_set = &set;
	return cli_run(a, &req, true, "set");
}

/* ---- policy show: a matrix of sections by departments ---------------- */

#define NSECTIONS 8

struct matrix {
	char **depts; /* column order: as the server lists them */
	size_t n, cap;
	int (*access)[NSECTIONS]; /* per department, per section - 1 */
};

/* The column of dept, added when new; -1 when out of memory. */
static int matrix_col(struct matrix *m, const char *raw)
{
	/* Kept safe for a terminal: the names become column titles. */
	const char *dept = cli_safe(raw);

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->depts[i], dept) == 0)
			return (int)i;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		char **d = realloc(m->depts, cap * sizeof *d);
		int(*acc)[NSECTIONS];

		if (d == NULL)
			return -1;
		m->depts = d;
		acc = realloc(m->access, cap * sizeof *acc);
		if (acc == NULL)
			return -1;
		m->access = acc;
		m->cap = cap;
	}
	m->depts[m->n] = strdup(dept);
	if (m->depts[m->n] == NULL)
		return -1;
	for (int s = 0; s < NSECTIONS; s++)
		m->access[m->n][s] = CARTA__V1__ACCESS__ACCESS_NONE;
	return (int)m->n++;
}

static int matrix_add(const cli_args *a, void *ud, const Carta__V1__Response *r)
{
	struct matrix *m = ud;

	if (r->body_case == CARTA__V1__RESPONSE__BODY_DEPARTMENTS) {
		for (size_t i = 0; i < r->departments->n_departments; i++)
			if (matrix_col(
				m, r->departments->departments[i]->name) < 0)
				return cli_fail(a, "out of memory");
		return 0;
	}
	if (r->body_case != CARTA__V1__RESPONSE__BODY_POLICIES)
		return cli_fail(a, "the server answered with something else");
	for (size_t i = 0; i < r->policies->n_entries; i++) {
		const Carta__V1__PolicyEntry *e = r->policies->entries[i];
		int col = matrix_col(m, e->department);

		if (col < 0)
			return cli_fail(a, "out of memory");
		if (e->section >= 1 && e->section <= NSECTIONS)
			m->access[col][e->section - 1] = (int)e->access;
	}
	return 0;
}

static int matrix_print(const cli_args *a, const struct matrix *m)
{
	const char **titles = calloc(m->n + 1, sizeof *titles);
	const char **cells = calloc(m->n + 1, sizeof *cells);
	cli_table t;
	int rv = 0;

	if (titles == NULL || cells == NULL ||
	    cli_table_init(&t, titles, (int)m->n + 1, 0) != 0) {
		free(titles);
		free(cells);
		return cli_fail(a, "out of memory");
	}
	titles[0] = "SECTION";
	for (size_t i = 0; i < m->n; i++)
		titles[i + 1] = m->depts[i];
	for (int s = 0; s < NSECTIONS && rv == 0; s++) {
		cells[0] = card_enum_sections[s].name;
		for (size_t i = 0; i < m->n; i++)
			cells[i + 1] =
			    card_enum_name(card_enum_access, m->access[i][s]);
		rv = cli_table_add(&t, cells);
	}
	if (rv == 0)
		cli_table_flush(&t);
	else
		rv = cli_fail(a, "out of memory");
	cli_table_free(&t);
	free(titles);
	free(cells);
	return rv;
}

static json_t *matrix_json(const struct matrix *m)
{
	json_t *o = json_object();

	for (size_t i = 0; i < m->n; i++) {
		json_t *d = json_object();

		for (int s = 0; s < NSECTIONS; s++)
			json_object_set_new(
			    d, card_enum_sections[s].name,
			    json_string(card_enum_name(card_enum_access,
						       m->access[i][s])));
		json_object_set_new(o, m->depts[i], d);
	}
	return o;
}

int cmd_policy_show(const cli_args *a)
{
	Carta__V1__Empty empty = CARTA__V1__EMPTY__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	struct matrix m = {0};
	cli_handler h = {.each = matrix_add, .ud = &m, .retry = true};
	carta_client *c = NULL;
	int status;

	/* The departments first, so that one without any grant still gets
	 * its column. */
	status = cli_open(a, &c);
	if (status == 0) {
		req.body_case = CARTA__V1__REQUEST__BODY_DEPARTMENT_LIST;
		req.department_list = &empty;
		status = cli_call(a, &c, &req, &h);
	}
	if (status == 0) {
		req.body_case = CARTA__V1__REQUEST__BODY_POLICY_SHOW;
		req.policy_show = &empty;
		status = cli_call(a, &c, &req, &h);
	}
	if (status == 0)
		status = a->json ? cli_print_json(a, matrix_json(&m))
				 : matrix_print(a, &m);
	if (status == 0 && !a->json)
		printf("Principals with the admin role may do everything, "
		       "whatever their\ndepartment's column says.\n");

	for (size_t i = 0; i < m.n; i++)
		free(m.depts[i]);
	free(m.depts);
	free(m.access);
	carta_close(c);
	return status;
}

/* ---- audit --------------------------------------------------------- */

int check_audit(const cli_args *a, char *err, size_t errlen)
{
	return cli_check_time("--since", a->since, err, errlen);
}

int cmd_audit(const cli_args *a)
{
	Carta__V1__AuditRequest audit = CARTA__V1__AUDIT_REQUEST__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;

	if (a->customer != NULL)
		audit.customer = (char *)a->customer;
	if (a->principal != NULL)
		audit.principal = (char *)a->principal;
	if (a->since != NULL)
		cli_time_parse(a->since, (int64_t)time(NULL), &audit.since);
	audit.limit = (uint32_t)a->limit;
	req.body_case = CARTA__V1__REQUEST__BODY_AUDIT;
	req.audit = &audit;
	return cli_run_pages(a, &req, &audit.cursor);
}
