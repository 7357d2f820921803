/* dataset.h - image classification datasets for --eval, --calib and
 * --heal: MNIST (IDX files, gzipped or raw) and CIFAR-10 (binary batches),
 * the --preprocess option, a seeded PRNG, shuffling and augmentation.
 *
 * A DATASET argument is "mnist:DIR" or "cifar10:DIR" (DESIGN.md §9):
 *   mnist:   DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
 *   cifar10: DIR/data_batch_1.bin .. data_batch_5.bin (train),
 *            DIR/test_batch.bin (test); each record is 1 label byte and
 *            3072 pixel bytes (R, G, B planes of 32×32, row-major).
 *
 * Pixels stay uint8 in memory (the CIFAR train set as float32 would take
 * 600 MB); ds_batch converts a batch to float NCHW in [0, 1], applies the
 * model's preprocessing and, optionally, augmentation. The arithmetic is
 * done in float as torchvision does (ToTensor: x/255, then Normalize:
 * (x − mean)/std), so inputs match what the model was trained on.
 *
 * Errors never abort: functions return -1 or NULL and write a message that
 * names the file into err (errlen bytes, may be 0).
 */
#ifndef QNNC_DATASET_H
#define QNNC_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define DS_MAX_CHANNELS 8

typedef enum ds_kind { DS_MNIST, DS_CIFAR10 } ds_kind;
typedef enum ds_split { DS_TRAIN, DS_TEST } ds_split;

/* A loaded split. pixels holds n·c·h·w bytes in NCHW order; labels holds
 * n class indices, each < nclasses. Owned by the set (ds_free). */
typedef struct ds_set {
	ds_kind kind;
	int64_t n, c, h, w;
	int nclasses;
	uint8_t *pixels;
	uint8_t *labels;
} ds_set;

/* Parse "mnist:DIR" / "cifar10:DIR" into a kind and a malloc'd DIR. */
int ds_parse_spec(const char *spec, ds_kind *kind, char **dir, char *err, size_t errlen);

/* Load one split from a spec ("mnist:DIR") or from a kind and a folder.
 * Validates magic numbers, dimensions, counts, label range, truncation
 * and trailing bytes. NULL and err on failure. */
ds_set *ds_load(const char *spec, ds_split split, char *err, size_t errlen);
ds_set *ds_load_dir(ds_kind kind, const char *dir, ds_split split, char *err, size_t errlen);
void ds_free(ds_set *d);

const char *ds_kind_name(ds_kind kind);             /* "mnist", "cifar10" */
const char *ds_class_name(ds_kind kind, int label); /* "7", "cat"; "?" if out of range */

/* Held-out split: moves the last k samples of d into a new set and shrinks
 * d to n − k (deterministic; 0 < k < n). NULL and err on failure, d intact. */
ds_set *ds_holdout(ds_set *d, int64_t k, char *err, size_t errlen);

/* ------------------------------------------------------------ preprocessing */

typedef enum ds_pre_kind { DS_PRE_NONE, DS_PRE_MEAN_STD, DS_PRE_SCALE_SHIFT } ds_pre_kind;

/* After scaling pixels to [0, 1]: MEAN_STD gives (x − a)/b, SCALE_SHIFT
 * gives x·a + b, per channel; count is 1 (all channels) or the channel
 * count. The zero value ({0}) is "no preprocessing". */
typedef struct ds_preprocess {
	ds_pre_kind kind;
	int count;
	float a[DS_MAX_CHANNELS], b[DS_MAX_CHANNELS];
} ds_preprocess;

/* Parse "mean:M,std:S" or "scale:A,shift:B" (keys in either order; a value
 * is one number or one per channel separated by '/'; a missing mean or
 * shift is 0, a missing std or scale is 1) or "none". Rejects mixed forms,
 * repeated keys, unequal value counts, non-finite numbers and std = 0. */
int ds_preprocess_parse(const char *s, ds_preprocess *pp, char *err, size_t errlen);

/* Check that pp fits c channels (count 1 or c). 0 or -1 with err. */
int ds_preprocess_check(const ds_preprocess *pp, int64_t c, char *err, size_t errlen);

/* Apply pp to one float value of channel ch (x already in [0, 1]). */
float ds_preprocess_apply(const ds_preprocess *pp, int64_t ch, float x);

/* ------------------------------------------------------------ randomness */

/* splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): state += 0x9e3779b97f4a7c15, then a fixed
 * mix. Integer-only, so the stream for a seed is the same on every machine. */
typedef struct ds_rng {
	uint64_t state;
} ds_rng;

void ds_rng_seed(ds_rng *r, uint64_t seed);
uint64_t ds_rng_next(ds_rng *r);
uint64_t ds_rng_below(ds_rng *r, uint64_t bound); /* uniform in [0, bound), bound > 0 */
double ds_rng_uniform(ds_rng *r);                  /* uniform in [0, 1), 53 bits */

/* Fisher–Yates shuffle of a[0..n) driven by r. */
void ds_shuffle(int64_t *a, int64_t n, ds_rng *r);

/* A malloc'd random permutation of 0..n-1 (identity if r is NULL). */
int64_t *ds_permutation(int64_t n, ds_rng *r);

/* ------------------------------------------------------------ batches */

/* Augmentation, applied to raw pixels before scaling as torchvision's
 * RandomCrop(padding=pad) and RandomHorizontalFlip do: the image is padded
 * with pad zero pixels on every side and an h×w window is cut at a random
 * offset, then mirrored left-right with probability 1/2. Per sample the
 * PRNG draws, in this order: row offset, column offset (each in
 * [0, 2·pad], only if pad > 0), flip bit (only if flip). */
typedef struct ds_augment {
	int pad;
	int flip;
} ds_augment;

/* Fill x[b, c, h, w] (floats) and y[b] (may be NULL) with samples
 * idx[first .. first+b) of d, or first .. first+b when idx is NULL.
 * pp may be NULL (pixels in [0, 1]); aug may be NULL (no augmentation),
 * otherwise rng must be given. 0, or -1 with err on a bad index, a pp
 * that does not fit the channel count, or a bad augmentation. */
int ds_batch(const ds_set *d, const int64_t *idx, int64_t first, int64_t b,
	     const ds_preprocess *pp, const ds_augment *aug, ds_rng *rng,
	     float *x, uint8_t *y, char *err, size_t errlen);

#endif
