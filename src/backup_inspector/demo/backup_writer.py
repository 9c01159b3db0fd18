"""Write synthetic Home Assistant backups of every era, byte-exact per format-spec.

Tests, the demo folder and benchmarks need *real* backup files: outer tars in
GNU and PAX dialects, `snapshot.json`/`backup.json` metadata of each schema
generation, and inner archives that are plain, gzip, or wrapped in each
SecureTar version — including the legacy v1 padding quirk that only the
original writer produced (format-spec §2.3). Fixture files checked into git
cannot cover that matrix and hide what each case is; a declarative writer
lets each test say exactly which bytes it is about.

Design notes:

* Every inner archive is first built into an anonymous temporary file next
  to the output, then copied (and encrypted, where asked) into the outer tar
  in bounded chunks, so multi-hundred-megabyte backups never sit in memory.
* "v2" and "v3" use the pinned securetar's own public encryptor, with one
  root key context per backup, so all v3 inner archives share the root salt
  exactly as real backups do (format-spec §2.5).
* "v1-legacy" is written by `LegacyPaddingEncryptWriter`, a file-like object
  handed to Python's streaming tarfile, because the legacy padding is a
  property of how tarfile chunks its writes, not of the cipher.
* This module writes; it never validates. Tests check its output with
  independent readers (stdlib tarfile, securetar's reader, hand decryption).

The writer lives in small modules, re-exported here so that callers keep one
import path: `entry_specs` (FileSpec, ArchiveSpec, content generators),
`legacy_crypto` (v1 key/IV derivation and padding), `metadata_builder`,
`sample_content` (realistic component entries), `inner_archives` and
`outer_tar` (`write_backup`), `corruption` (damage helpers) and
`era_presets`.
"""

from __future__ import annotations

from backup_inspector.demo.corruption import (
    append_bytes,
    find_crc_breaking_offset,
    flip_byte,
    member_location,
    truncate_file,
)
from backup_inspector.demo.entry_specs import (
    DEFAULT_ENTRY_MTIME,
    GENERATOR_BLOCK_BYTES,
    UNLISTED_COMPONENTS,
    ArchiveSpec,
    ContentGenerator,
    Encryption,
    EntryType,
    FileSpec,
    PlainGzipStyle,
    TarDialect,
    files_to_specs,
    patterned_content,
    random_content,
)
from backup_inspector.demo.era_presets import (
    PresetWriter,
    WrittenArchive,
    WrittenBackup,
    core_2023_unencrypted,
    core_2025_1_legacy,
    core_2025_v2,
    core_2026_v3_downloaded,
    core_style_file_name,
    era_presets,
    securetar_2025_1_fixed_padding,
    supervisor_2019_gnu_snapshot,
    supervisor_2021_pax_backup_json,
    supervisor_2022_name_mismatch,
    supervisor_2022_uncompressed,
    supervisor_2023_plain_partial,
    supervisor_2024_streamed,
    supervisor_2025_v2,
    supervisor_2026_v3,
)
from backup_inspector.demo.inner_archives import (
    GZIP_FILE_COMPRESSLEVEL,
    LEGACY_DEFAULT_BUFSIZE,
    SUPERVISOR_STREAM_BUFSIZE,
)
from backup_inspector.demo.legacy_crypto import (
    AES_BLOCK_SIZE,
    AES_KDF_ROUNDS,
    TEMP_COPY_CHUNK_BYTES,
    LegacyPaddingEncryptWriter,
    derive_aes_iv,
    derive_aes_key,
    encrypt_legacy_metadata_value,
    legacy_protected_digit,
)
from backup_inspector.demo.metadata_builder import (
    DEFAULT_BACKUP_DATE,
    DEFAULT_BACKUP_NAME,
    DEFAULT_HOMEASSISTANT_VERSION,
    DEFAULT_SUPERVISOR_VERSION,
    FOLDER_METADATA_NAMES,
    KNOWN_ADDONS,
    MetadataProducer,
    compute_slug,
    make_metadata,
    serialize_metadata,
)
from backup_inspector.demo.outer_tar import (
    DEFAULT_OUTER_MTIME,
    OUTER_COPY_CHUNK_BYTES,
    MetadataPosition,
    write_backup,
)
from backup_inspector.demo.sample_content import (
    addon_archive_entries,
    addons_local_folder_entries,
    fake_sqlite_database,
    homeassistant_archive_entries,
    homeassistant_config_files,
    media_folder_entries,
    mosquitto_addon_entries,
    share_folder_entries,
    ssl_folder_entries,
    supervisor_archive_entries,
)

__all__ = [
    "AES_BLOCK_SIZE",
    "AES_KDF_ROUNDS",
    "DEFAULT_BACKUP_DATE",
    "DEFAULT_BACKUP_NAME",
    "DEFAULT_ENTRY_MTIME",
    "DEFAULT_HOMEASSISTANT_VERSION",
    "DEFAULT_OUTER_MTIME",
    "DEFAULT_SUPERVISOR_VERSION",
    "FOLDER_METADATA_NAMES",
    "GENERATOR_BLOCK_BYTES",
    "GZIP_FILE_COMPRESSLEVEL",
    "KNOWN_ADDONS",
    "LEGACY_DEFAULT_BUFSIZE",
    "OUTER_COPY_CHUNK_BYTES",
    "SUPERVISOR_STREAM_BUFSIZE",
    "TEMP_COPY_CHUNK_BYTES",
    "UNLISTED_COMPONENTS",
    "ArchiveSpec",
    "ContentGenerator",
    "Encryption",
    "EntryType",
    "FileSpec",
    "LegacyPaddingEncryptWriter",
    "MetadataPosition",
    "MetadataProducer",
    "PlainGzipStyle",
    "PresetWriter",
    "TarDialect",
    "WrittenArchive",
    "WrittenBackup",
    "addon_archive_entries",
    "addons_local_folder_entries",
    "append_bytes",
    "compute_slug",
    "core_2023_unencrypted",
    "core_2025_1_legacy",
    "core_2025_v2",
    "core_2026_v3_downloaded",
    "core_style_file_name",
    "derive_aes_iv",
    "derive_aes_key",
    "encrypt_legacy_metadata_value",
    "era_presets",
    "fake_sqlite_database",
    "files_to_specs",
    "find_crc_breaking_offset",
    "flip_byte",
    "homeassistant_archive_entries",
    "homeassistant_config_files",
    "legacy_protected_digit",
    "make_metadata",
    "media_folder_entries",
    "member_location",
    "mosquitto_addon_entries",
    "patterned_content",
    "random_content",
    "securetar_2025_1_fixed_padding",
    "serialize_metadata",
    "share_folder_entries",
    "ssl_folder_entries",
    "supervisor_2019_gnu_snapshot",
    "supervisor_2021_pax_backup_json",
    "supervisor_2022_name_mismatch",
    "supervisor_2022_uncompressed",
    "supervisor_2023_plain_partial",
    "supervisor_2024_streamed",
    "supervisor_2025_v2",
    "supervisor_2026_v3",
    "supervisor_archive_entries",
    "truncate_file",
    "write_backup",
]
