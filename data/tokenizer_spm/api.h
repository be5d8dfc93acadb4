// The C ABI of libautothink_spm.so, the module that holds sentencepiece. Debian's
// libsentencepiece exports the protobuf-lite it bundles, which clashes with libtorch's
// libprotobuf in one process (a crash at startup); the module is therefore loaded with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND) so each library keeps its own protobuf. No C++ type crosses
// this boundary. Functions that can fail return 0 on success, else set *error (free with
// atspm_free). Memory returned through pointers is malloc'd: free it with atspm_free.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { ATSPM_UNKNOWN = 1, ATSPM_CONTROL = 2, ATSPM_BYTE = 4, ATSPM_UNUSED = 8 };

typedef void* (*atspm_load_fn)(const char* path, char** error);
typedef void (*atspm_release_fn)(void* processor);
typedef int (*atspm_piece_size_fn)(void* processor);
typedef int (*atspm_piece_to_id_fn)(void* processor, const char* piece, size_t length);
// Returns the piece; *length receives its size. Valid while the processor lives.
typedef const char* (*atspm_id_to_piece_fn)(void* processor, int id, size_t* length);
typedef int (*atspm_id_kind_fn)(void* processor, int id);  // ATSPM_* bits
typedef int (*atspm_encode_fn)(void* processor, const char* text, size_t length, int** ids, size_t* count,
                               char** error);
// flags: `flag_count` key/value pairs; sentences: `sentence_count` (pointer, length) pairs.
typedef int (*atspm_train_fn)(const char* const* keys, const char* const* values, size_t flag_count,
                              const char* const* sentences, const size_t* lengths, size_t sentence_count,
                              char** model, size_t* model_length, char** error);
typedef void (*atspm_free_fn)(void* memory);

#ifdef __cplusplus
}
#endif
