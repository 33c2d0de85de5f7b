// Size limits for model files. Every loader checks declared sizes against these before allocating,
// so a hostile or corrupt file cannot make us reserve gigabytes from a few bytes of header.

/** Largest model file we read at all (the book's network is 0.18 MB). */
export const MAX_MODEL_FILE_BYTES = 512 * 1024 * 1024;
/** Largest safetensors JSON header (the reference implementation's limit). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;
/** Largest total of the uncompressed sizes that an npz archive may declare. */
export const MAX_NPZ_UNCOMPRESSED_BYTES = 512 * 1024 * 1024;
/** Most members an npz archive may hold (a network has two per layer). */
export const MAX_NPZ_MEMBERS = 1000;
/** Largest `.npy` header (numpy itself refuses headers over 10 kB by default). */
export const MAX_NPY_HEADER_BYTES = 64 * 1024;
/** Largest metadata member of an npz we write and read. */
export const MAX_NPZ_METADATA_BYTES = 1024 * 1024;

export const MiB = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(0)} MiB`;
