/* Small facts about protobuf-c fields, for the code that walks messages
 * through their descriptors (the server's audit JSON and edit paths, the
 * CLI's card JSON). */
#ifndef CARTA_PBFIELD_H
#define CARTA_PBFIELD_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* The size of one value of f as protobuf-c stores it: in the message for
 * a singular field, in the array for a repeated one. */
size_t pbfield_size(const ProtobufCFieldDescriptor *f);

/* The address of f's slot in m (the value, or the array pointer). */
void *pbfield_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* The address of a repeated field's element count in m. */
size_t *pbfield_count(const ProtobufCMessage *m,
		      const ProtobufCFieldDescriptor *f);

#endif
