/* `cartad init`: creates a data directory holding everything a new
 * server needs: its key pair, the database, a config file, and the first
 * admin's profile. */
#ifndef CARTAD_INIT_H
#define CARTAD_INIT_H

/* The data directory's files. */
#define DATA_SERVER_KEY	   "server.key"
#define DATA_DB		   "carta.db"
#define DATA_CONFIG	   "cartad.conf"
#define DATA_ADMIN_PROFILE "admin.profile"
#define DATA_ADDR	   "cartad.addr"
#define DATA_PID	   "cartad.pid"
#define DATA_LOCK	   "cartad.lock"

/* The departments a new store starts with. */
extern const char *const init_departments[];

/* Creates dir (which must not exist, or be empty) and fills it; listen is
 * HOST:PORT. Prints the server public key and next steps to stdout, errors
 * to stderr. Returns a process exit status. */
int init_data_dir(const char *dir, const char *listen);

#endif
