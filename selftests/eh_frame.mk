# SPDX-License-Identifier: MIT
#
# arch/arm64/eh_frame.c, the CFI encoder, and the emitter's unwind rows:
# pure, so eh_frame_test also runs on the host (ASan+UBSan), where readelf
# decodes the encoded bytes.

PURE_SRCS += arch/arm64/eh_frame.c
HOST_TESTS += eh_frame
