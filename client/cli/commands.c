/* The command tree of carta: names, help texts, the options each command
 * takes, and the function that runs it. */
#include "cli.h"

static const cli_cmd admin_cmds[] = {
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
	.name = "admin",
	.summary = "administer principals (enrol, revoke, principals)",
	.synopsis = "COMMAND [ARGS] [OPTIONS]",
	.about = "Commands for admins.",
	.subs = admin_cmds,
	.nsubs = sizeof admin_cmds / sizeof admin_cmds[0],
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
