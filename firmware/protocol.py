"""movecoach wire protocol v1: the single source of truth, shared by the board and the host.

Runs unchanged on MicroPython (boards, unix port) and CPython (``movecoach.firmware.protocol``).
docs/protocol.md explains every field; keep the two in step. All multi-byte fields are
little-endian.

Data packet (one BLE notification, or one COBS frame payload on serial/TCP)::

    off size field
    0   1    magic       0x4D ('M')
    1   1    version     PROTOCOL_VERSION
    2   1    flags       FLAG_* bits
    3   1    n_samples   samples in this packet (1..255)
    4   2    seq         u16 packet counter, wraps 65535 -> 0
    6   4    t0_us       u32 sensor time of the first sample, microseconds, wraps
    10  2    rate_dhz    nominal sample rate in 0.1 Hz (1040 = 104 Hz)
    12  1    acc_fs_g    accelerometer full scale, g (2, 4, 8, 16)
    13  1    channels    int16 values per sample (6: ax ay az gx gy gz)
    14  2    gyr_fs_dps  gyroscope full scale, degrees/s (125 .. 2000)
    16  12*n samples     n x (ax ay az gx gy gz) int16 counts, sensor frame

Sample i of a packet was taken at t0_us + i * 1e6 / rate. Physical value = count * sensitivity,
with the datasheet sensitivities of the LSM6DSOX / LSM6DS3TR-C (ACC_UG_PER_LSB, GYR_UDPS_PER_LSB).

Status record (control characteristic read/notify, or a frame on serial/TCP)::

    0 u8 magic 0x53 ('S')   1 u8 version     2 u8 state (STATE_* bits)  3 u8 result (RESULT_*)
    4 u8 last opcode         5 u8 battery %  (255 = unknown)
    6 u16 rate_hz            8 u8 acc_fs_g    9 u8 samples_per_packet
    10 u16 gyr_fs_dps        12 u16 next seq  14 u16 att_mtu (0 = serial)

Control command (write to the control characteristic, or a frame host -> wearable)::

    opcode u8, then arguments (little-endian): see OP_* below.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


import struct

PROTOCOL_VERSION = const(1)

# --- BLE --------------------------------------------------------------------------------------
SERVICE_UUID = "6d6f7665-636f-6163-6800-000000000001"
DATA_UUID = "6d6f7665-636f-6163-6800-000000000002"  # notify: data packets
CONTROL_UUID = "6d6f7665-636f-6163-6800-000000000003"  # write: commands; read/notify: status
DEVICE_NAME_PREFIX = "movecoach-"
BATTERY_SERVICE_UUID16 = const(0x180F)
BATTERY_LEVEL_UUID16 = const(0x2A19)
DEVICE_INFO_SERVICE_UUID16 = const(0x180A)
MANUFACTURER_NAME_UUID16 = const(0x2A29)
MODEL_NUMBER_UUID16 = const(0x2A24)
FIRMWARE_REVISION_UUID16 = const(0x2A26)
ATT_OVERHEAD = const(3)  # ATT notification payload = MTU - 3
DEFAULT_ATT_MTU = const(23)
PREFERRED_ATT_MTU = const(247)  # nRF52840 / ESP32 / CYW43 all reach 247 with data length extension

# --- data packets -----------------------------------------------------------------------------
DATA_MAGIC = const(0x4D)  # 'M'
STATUS_MAGIC = const(0x53)  # 'S'
HEADER_FORMAT = "<BBBBHIHBBH"
HEADER_SIZE = const(16)
CHANNELS = const(6)
SAMPLE_SIZE = const(12)  # 6 x int16
MAX_SAMPLES_PER_PACKET = const(255)
SERIAL_SAMPLES_PER_PACKET = const(8)  # ~77 ms at 104 Hz, 112-byte packets
MAX_BLE_SAMPLES_PER_PACKET = const(40)  # caps latency on huge MTUs (~0.38 s at 104 Hz)

# offsets, for firmware writers and host readers
OFF_FLAGS = const(2)
OFF_N = const(3)
OFF_SEQ = const(4)
OFF_T0 = const(6)
OFF_RATE = const(10)
OFF_ACC_FS = const(12)
OFF_CHANNELS = const(13)
OFF_GYR_FS = const(14)

FLAG_RESTART = const(0x01)  # first packet after (re)start: no loss is counted before it
FLAG_OVERRUN = const(0x02)  # the sensor FIFO overflowed before this packet: samples were lost
FLAG_SIMULATED = const(0x04)  # samples come from the IMU simulator, not a sensor
FLAG_FLUSH = const(0x08)  # short packet sent early (stop, rate or range change)

# --- sensor settings --------------------------------------------------------------------------
RATES_HZ = (52, 104, 208)
ACC_FS_G = (2, 4, 8, 16)
GYR_FS_DPS = (125, 250, 500, 1000, 2000)
DEFAULT_RATE_HZ = const(104)
DEFAULT_ACC_FS_G = const(4)
DEFAULT_GYR_FS_DPS = const(500)
# datasheet sensitivities (LSM6DSOX DS12814 / LSM6DS3TR-C DS12336, table 3), per count
ACC_UG_PER_LSB = {2: 61, 4: 122, 8: 244, 16: 488}  # micro-g per count
GYR_UDPS_PER_LSB = {125: 4375, 250: 8750, 500: 17500, 1000: 35000, 2000: 70000}  # micro-dps

# --- control ----------------------------------------------------------------------------------
OP_START = const(0x01)  # no arguments
OP_STOP = const(0x02)  # no arguments
OP_SET_RATE = const(0x03)  # u16 rate_hz (one of RATES_HZ)
OP_SET_RANGE = const(0x04)  # u8 acc_fs_g, u16 gyr_fs_dps
OP_STATUS = const(0x05)  # no arguments: the wearable answers with a status record
COMMAND_SIZES = {OP_START: 1, OP_STOP: 1, OP_SET_RATE: 3, OP_SET_RANGE: 4, OP_STATUS: 1}

RESULT_OK = const(0)
RESULT_UNKNOWN_OPCODE = const(1)
RESULT_BAD_LENGTH = const(2)
RESULT_BAD_VALUE = const(3)
RESULT_NAMES = ("ok", "unknown opcode", "bad length", "bad value")

STATE_STREAMING = const(0x01)
STATE_SIMULATED = const(0x02)
STATE_LOW_BATTERY = const(0x04)

STATUS_FORMAT = "<BBBBBBHBBHHH"
STATUS_SIZE = const(16)
BATTERY_UNKNOWN = const(255)

# --- framing (serial / TCP) -------------------------------------------------------------------
FRAME_DELIMITER = const(0x00)
CRC16_INIT = const(0xFFFF)  # CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xorout
CRC_SIZE = const(2)


def acc_scale_m_s2(acc_fs_g):
    """m/s^2 per count for an accelerometer full scale in g (ValueError if unknown).

    Host side only (the board sends counts and never converts them): g is the host's standard
    gravity, movecoach.signal.gravity."""
    from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2

    if acc_fs_g not in ACC_UG_PER_LSB:
        raise ValueError("acc full scale must be one of 2, 4, 8, 16 g")
    return ACC_UG_PER_LSB[acc_fs_g] * 1e-6 * STANDARD_GRAVITY_M_S2


def gyr_scale_rad_s(gyr_fs_dps):
    """rad/s per count for a gyroscope full scale in degrees/s (ValueError if unknown)."""
    if gyr_fs_dps not in GYR_UDPS_PER_LSB:
        raise ValueError("gyro full scale must be one of 125, 250, 500, 1000, 2000 dps")
    return GYR_UDPS_PER_LSB[gyr_fs_dps] * 1e-6 * 0.017453292519943295


def samples_per_packet(att_mtu):
    """Samples that fit one notification at this ATT MTU (0 if the MTU is too small)."""
    n = (att_mtu - ATT_OVERHEAD - HEADER_SIZE) // SAMPLE_SIZE
    if n < 0:
        return 0
    return min(n, MAX_BLE_SAMPLES_PER_PACKET)


def packet_size(n_samples):
    """Bytes in a data packet of n_samples."""
    return HEADER_SIZE + n_samples * SAMPLE_SIZE


# --- control commands: encode (host) ----------------------------------------------------------
def encode_start():
    return bytes((OP_START,))


def encode_stop():
    return bytes((OP_STOP,))


def encode_status_request():
    return bytes((OP_STATUS,))


def encode_set_rate(rate_hz):
    """SET_RATE command; ValueError unless rate_hz is one of RATES_HZ."""
    if rate_hz not in RATES_HZ:
        raise ValueError("rate must be one of 52, 104, 208 Hz")
    return struct.pack("<BH", OP_SET_RATE, rate_hz)


def encode_set_range(acc_fs_g, gyr_fs_dps):
    """SET_RANGE command; ValueError for a full scale outside ACC_FS_G / GYR_FS_DPS."""
    if acc_fs_g not in ACC_FS_G or gyr_fs_dps not in GYR_FS_DPS:
        raise ValueError("ranges must be acc 2/4/8/16 g and gyro 125/250/500/1000/2000 dps")
    return struct.pack("<BBH", OP_SET_RANGE, acc_fs_g, gyr_fs_dps)


def parse_command(cmd):
    """(opcode, arg1, arg2, result) from command bytes; result is a RESULT_* code.

    Validates length and values but applies nothing (see control.py). Never raises.
    """
    n = len(cmd)
    if n == 0:
        return 0, 0, 0, RESULT_BAD_LENGTH
    op = cmd[0]
    size = COMMAND_SIZES.get(op)
    if size is None:
        return op, 0, 0, RESULT_UNKNOWN_OPCODE
    if n != size:
        return op, 0, 0, RESULT_BAD_LENGTH
    if op == OP_SET_RATE:
        rate = cmd[1] | (cmd[2] << 8)
        return op, rate, 0, (RESULT_OK if rate in RATES_HZ else RESULT_BAD_VALUE)
    if op == OP_SET_RANGE:
        acc = cmd[1]
        gyr = cmd[2] | (cmd[3] << 8)
        ok = acc in ACC_FS_G and gyr in GYR_FS_DPS
        return op, acc, gyr, (RESULT_OK if ok else RESULT_BAD_VALUE)
    return op, 0, 0, RESULT_OK


# --- status records ---------------------------------------------------------------------------
def pack_status_into(buf, state, result, opcode, battery_pct, rate_hz, acc_fs_g, spp, gyr_fs_dps,
                     seq, att_mtu):
    """Write a STATUS_SIZE-byte status record into buf (no allocation)."""
    struct.pack_into(STATUS_FORMAT, buf, 0, STATUS_MAGIC, PROTOCOL_VERSION, state, result, opcode,
                     battery_pct, rate_hz, acc_fs_g, spp, gyr_fs_dps, seq, att_mtu)


def parse_status(buf):
    """Status record bytes -> dict, or None if it is not a v1 status record."""
    if len(buf) != STATUS_SIZE or buf[0] != STATUS_MAGIC or buf[1] != PROTOCOL_VERSION:
        return None
    f = struct.unpack(STATUS_FORMAT, bytes(buf))
    result = f[3]
    return {
        "streaming": bool(f[2] & STATE_STREAMING),
        "simulated": bool(f[2] & STATE_SIMULATED),
        "low_battery": bool(f[2] & STATE_LOW_BATTERY),
        "result": result,
        "result_text": RESULT_NAMES[result] if result < len(RESULT_NAMES) else "error",
        "opcode": f[4],
        "battery_pct": None if f[5] == BATTERY_UNKNOWN else f[5],
        "rate_hz": f[6],
        "acc_fs_g": f[7],
        "samples_per_packet": f[8],
        "gyr_fs_dps": f[9],
        "seq": f[10],
        "att_mtu": f[11],
    }
