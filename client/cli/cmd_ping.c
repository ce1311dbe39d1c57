/* carta ping [--count N] [--pipeline]: check the connection and show what
 * the server knows about us. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"

/* Most pings in flight at once with --pipeline, so that the answers
 * always fit in the socket buffers. */
#define PIPELINE_WINDOW 512
#define ECHO_LEN	16

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void copy_info(carta_server_info *info, const Carta__V1__ServerInfo *i)
{
	snprintf(info->server_version, sizeof info->server_version, "%s",
		 i->server_version);
	info->protocol_version = i->protocol_version;
	snprintf(info->principal, sizeof info->principal, "%s", i->principal);
	snprintf(info->department, sizeof info->department, "%s",
		 i->department);
	info->role = (int)i->role;
}

struct pipe_state {
	uint64_t *ids;	/* request id of ping i */
	int64_t *sent;	/* when ping i was sent */
	uint8_t tag[8]; /* random, first half of every echo */
};

static int pipe_send(const cli_args *a, carta_client *c, struct pipe_state *s,
		     long i)
{
	uint8_t echo[ECHO_LEN];
	Carta__V1__Ping ping = CARTA__V1__PING__INIT;
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	uint64_t idx = (uint64_t)i;

	memcpy(echo, s->tag, sizeof s->tag);
	for (int b = 0; b < 8; b++)
		echo[8 + b] = (uint8_t)(idx >> (8 * b));
	ping.echo.data = echo;
	ping.echo.len = sizeof echo;
	req.body_case = CARTA__V1__REQUEST__BODY_PING;
	req.ping = &ping;

	s->sent[i] = mono_us();
	if (carta_send(c, &req, &s->ids[i]) != 0)
		return cli_fail_client(a, c);
	return 0;
}

/* Reads one pong, checks its echo and records its round trip. */
static int pipe_recv(const cli_args *a, carta_client *c, struct pipe_state *s,
		     long count, int64_t *rtt, carta_server_info *info,
		     long got)
{
	Carta__V1__Response *r = NULL;
	const Carta__V1__Pong *pong;
	uint64_t idx = 0;
	int status = CLI_EXIT_FAIL;

	if (carta_recv(c, &r) != 0)
		return cli_fail_client(a, c);
	if (carta_response_check(c, r) != 0) {
		status = cli_fail_client(a, c);
		goto out;
	}
	pong = r->pong;
	if (r->body_case != CARTA__V1__RESPONSE__BODY_PONG || pong == NULL ||
	    pong->echo.len != ECHO_LEN ||
	    memcmp(pong->echo.data, s->tag, sizeof s->tag) != 0) {
		cli_fail(a, "server answered a ping with something else");
		goto out;
	}
	for (int b = 0; b < 8; b++)
		idx |= (uint64_t)pong->echo.data[8 + b] << (8 * b);
	if (idx >= (uint64_t)count || s->ids[idx] != r->id || rtt[idx] >= 0) {
		cli_fail(a, "server answered ping id %llu with the wrong echo",
			 (unsigned long long)r->id);
		goto out;
	}
	rtt[idx] = mono_us() - s->sent[idx];
	if (got == 0 && pong->info != NULL)
		copy_info(info, pong->info);
	status = CLI_EXIT_OK;

out:
	carta__v1__response__free_unpacked(r, NULL);
	return status;
}

/* Keeps up to PIPELINE_WINDOW pings in flight until count are answered. */
static int ping_pipelined(const cli_args *a, carta_client *c, long count,
			  int64_t *rtt, carta_server_info *info)
{
	struct pipe_state s;
	long sent = 0, got = 0;
	int status = CLI_EXIT_FAIL;

	s.ids = calloc((size_t)count, sizeof *s.ids);
	s.sent = calloc((size_t)count, sizeof *s.sent);
	if (s.ids == NULL || s.sent == NULL) {
		cli_fail(a, "out of memory");
		goto out;
	}
	randombytes_buf(s.tag, sizeof s.tag);

	while (got < count) {
		while (sent < count && sent - got < PIPELINE_WINDOW) {
			if (pipe_send(a, c, &s, sent) != 0)
				goto out;
			sent++;
		}
		if (pipe_recv(a, c, &s, count, rtt, info, got) != 0)
			goto out;
		got++;
	}
	status = CLI_EXIT_OK;

out:
	free(s.ids);
	free(s.sent);
	return status;
}

static int ping_one_by_one(const cli_args *a, carta_client *c, long count,
			   int64_t *rtt, carta_server_info *info)
{
	for (long i = 0; i < count; i++) {
		carta_server_info each;

		if (carta_ping(c, &each) != 0)
			return cli_fail_client(a, c);
		rtt[i] = (int64_t)each.rtt_us;
		if (i == 0)
			*info = each;
	}
	return CLI_EXIT_OK;
}

static int print_result(const cli_args *a, const carta_client *c, long count,
			const int64_t *rtt, int64_t total_us,
			const carta_server_info *info)
{
	int64_t min = rtt[0], max = rtt[0], sum = 0;
	char principal[CARTA_INFO_STR_MAX], dept[CARTA_INFO_STR_MAX],
	    version[CARTA_INFO_STR_MAX];

	for (long i = 0; i < count; i++) {
		min = rtt[i] < min ? rtt[i] : min;
		max = rtt[i] > max ? rtt[i] : max;
		sum += rtt[i];
	}
	int64_t avg = sum / count;

	if (a->json) {
		json_t *o = json_object(), *arr = json_array();

		for (long i = 0; i < count; i++)
			json_array_append_new(arr, json_integer(rtt[i]));
		json_object_set_new(o, "server",
				    cli_json_str(carta_client_server(c)));
		json_object_set_new(o, "server_version",
				    cli_json_str(info->server_version));
		json_object_set_new(o, "protocol_version",
				    json_integer(info->protocol_version));
		json_object_set_new(o, "principal",
				    cli_json_str(info->principal));
		json_object_set_new(o, "department",
				    cli_json_str(info->department));
		json_object_set_new(o, "role",
				    json_string(carta_role_name(info->role)));
		json_object_set_new(o, "count", json_integer(count));
		json_object_set_new(o, "pipelined", json_boolean(a->pipeline));
		json_object_set_new(o, "rtt_us", arr);
		json_object_set_new(o, "rtt_min_us", json_integer(min));
		json_object_set_new(o, "rtt_avg_us", json_integer(avg));
		json_object_set_new(o, "rtt_max_us", json_integer(max));
		json_object_set_new(o, "total_us", json_integer(total_us));
		return cli_print_json(a, o);
	}

	cli_sanitize(info->server_version, version, sizeof version);
	cli_sanitize(info->principal, principal, sizeof principal);
	cli_sanitize(info->department, dept, sizeof dept);
	printf("server:           %s\n", carta_client_server(c));
	printf("server version:   %s\n", version);
	printf("protocol version: %u\n", info->protocol_version);
	printf("principal:        %s\n", principal);
	printf("department:       %s\n", dept);
	printf("role:             %s\n", carta_role_name(info->role));
	if (count == 1) {
		printf("round trip:       %.3f ms\n", (double)rtt[0] / 1000);
		return CLI_EXIT_OK;
	}
	printf("round trip:       min %.3f / avg %.3f / max %.3f ms (%ld "
	       "pings%s)\n",
	       (double)min / 1000, (double)avg / 1000, (double)max / 1000,
	       count, a->pipeline ? ", pipelined" : "");
	printf("total:            %.3f ms (%.0f pings/s)\n",
	       (double)total_us / 1000,
	       total_us > 0 ? (double)count * 1e6 / (double)total_us : 0.0);
	return CLI_EXIT_OK;
}

int cmd_ping(const cli_args *a)
{
	long count = a->count > 0 ? a->count : 1;
	carta_server_info info;
	carta_options opts;
	carta_client *c = NULL;
	int64_t *rtt = NULL, t0;
	int status;

	status = cli_load_options(a, &opts);
	if (status != 0)
		return status;
	status = cli_connect(a, &opts, &c);
	carta_options_wipe(&opts);
	if (status != 0)
		return status;

	rtt = malloc((size_t)count * sizeof *rtt);
	if (rtt == NULL) {
		status = cli_fail(a, "out of memory");
		goto out;
	}
	for (long i = 0; i < count; i++)
		rtt[i] = -1;
	memset(&info, 0, sizeof info);

	t0 = mono_us();
	if (a->pipeline)
		status = ping_pipelined(a, c, count, rtt, &info);
	else
		status = ping_one_by_one(a, c, count, rtt, &info);
	if (status == 0)
		status = print_result(a, c, count, rtt, mono_us() - t0, &info);

out:
	free(rtt);
	carta_close(c);
	return status;
}
