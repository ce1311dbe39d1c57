/* Generic work on protobuf-c messages through their descriptors: a
 * message as JSON (for the audit log's old and new values), and setting
 * one field by a dotted path ("emails.0.address") for section edits.
 *
 * Messages handled here own their memory the way protobuf-c's unpack does
 * (malloc'd strings, arrays and sub-messages), so that
 * protobuf_c_message_free_unpacked releases them. */
#ifndef CARTAD_PBREFLECT_H
#define CARTAD_PBREFLECT_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* A JSON object with the message's non-default fields, as the JSON card
 * writes them: enums by their lower-case short name ("granted"), times
 * ("at", "..._at") as 2026-12-01T10:00:00Z, bytes as hex. New reference,
 * or NULL when out of memory. */
json_t *pb_to_json(const ProtobufCMessage *m);

/* pb_to_json rendered compactly with sorted keys; malloc'd, or NULL. */
char *pb_to_json_text(const ProtobufCMessage *m);

/* Sets the field named by path to value, parsing value for the field's
 * type (string, bool, integers, enum by name). Path steps are field names
 * and, after a repeated field, an index: an index equal to the count
 * appends a new element; "LIST.N" with an empty value removes element N.
 * Returns 0, or CARTA_EINVAL with err naming what is wrong, or
 * CARTA_ENOMEM. On error m may be partly changed: discard it. */
int pb_set_path(ProtobufCMessage *m, const char *path, const char *value,
		char *err, size_t errlen);

/* A deep copy of m (malloc'd as unpack would), or NULL. */
ProtobufCMessage *pb_clone(const ProtobufCMessage *m);

/* Replaces the string *field (freed unless protobuf's shared empty
 * string) with a malloc'd copy of t, or the shared empty string when t is
 * NULL or "". 0, or CARTA_ENOMEM with *field as it was. */
int pb_set_string(char **field, const char *t);

/* Appends p, or a deep copy of m, to a repeated field (*arr of *n
 * pointers). 0, or CARTA_ENOMEM with the field as it was (and p still
 * the caller's). */
int pb_push(void ***arr, size_t *n, void *p);
int pb_push_clone(void ***arr, size_t *n, const ProtobufCMessage *m);

#define PB_PUSH(arr, n, p) pb_push((void ***)&(arr), &(n), (p))
#define PB_PUSH_CLONE(arr, n, m)                                               \
	pb_push_clone((void ***)&(arr), &(n), (const ProtobufCMessage *)(m))

#endif
