using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using OBAgent.Interop;

namespace OBAgent.Mapping
{
    /// <summary>
    /// What the recovery cmdlets share: opening a recovery session (with the passphrase of another
    /// server, turned into bytes only for the call), and making OBRecoverableItem objects for points
    /// and for the files and folders inside them.
    /// </summary>
    internal static class RecoveryItems
    {
        /// <summary>
        /// Open the backups of this server (otherServer null; no passphrase needed) or of another
        /// server with its passphrase. A passphrase refused, or missing, comes back as an error that
        /// says what to pass.
        /// </summary>
        internal static RecoveryHandle Open(AgentHandle agent, string otherServer, SecureString passphrase)
        {
            if (otherServer == null)
                return Native.RecoveryOpen(agent, null, null);
            try
            {
                if (passphrase == null)
                    return Native.RecoveryOpen(agent, otherServer, null);
                using (SecretBytes secret = SecretBytes.FromSecureString(passphrase))
                {
                    return Native.RecoveryOpen(agent, otherServer, secret);
                }
            }
            catch (OBAgentException ex)
            {
                throw PassphraseFailure(ex, otherServer, passphrase != null);
            }
        }

        /// <summary>
        /// A passphrase failure whose message does not say what to do, reworded to say it (the
        /// ErrorId and category stay the engine's); other failures as they are.
        /// </summary>
        internal static OBAgentException PassphraseFailure(OBAgentException ex, string server, bool given)
        {
            if (ex.NativeCode != (int)ErrorCode.Passphrase && (ex.NativeCode != (int)ErrorCode.NoKey || given))
                return ex;
            string said = ex.Message ?? "";
            if (given ? said.IndexOf("passphrase", StringComparison.OrdinalIgnoreCase) >= 0
                      : said.IndexOf("-EncryptionPassphrase", StringComparison.OrdinalIgnoreCase) >= 0)
                return ex;
            string message = given
                ? string.Format(CultureInfo.InvariantCulture,
                    "The encryption passphrase given does not open the backups of server '{0}'. Pass -EncryptionPassphrase with the passphrase last set on '{0}'. ({1})",
                    server, ex.Message)
                : string.Format(CultureInfo.InvariantCulture,
                    "The backups of server '{0}' are encrypted with its own passphrase: add -EncryptionPassphrase with the passphrase last set on '{0}'. ({1})",
                    server, ex.Message);
            return new OBAgentException(message, ex.NativeCode, ex.NativeName, ex.ErrorId, ex.Category);
        }

        private static DateTime LocalTime(long seconds)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds).LocalDateTime;
        }

        /// <summary>An opaque, stable id for an item of a point.</summary>
        private static string ItemGuid(string pointId, long datasourceId, string relativePath)
        {
            using (SHA256 sha = SHA256.Create())
            {
                byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(
                    pointId + "\n" + datasourceId.ToString(CultureInfo.InvariantCulture) + "\n" + relativePath));
                byte[] bytes = new byte[16];
                Array.Copy(hash, bytes, 16);
                return new Guid(bytes).ToString();
            }
        }

        /// <summary>
        /// A path relative to a data source's root as the user knows it: the data source's name
        /// (e.g. "/srv") joined with it, in the data source's own separator style.
        /// </summary>
        internal static string FriendlyPath(string source, string relativePath)
        {
            if (string.IsNullOrEmpty(relativePath))
                return source;
            char sep = source.IndexOf('\\') >= 0 ? '\\' : '/';
            string rel = sep == '\\' ? relativePath.Replace('/', '\\') : relativePath;
            if (source.EndsWith("/", StringComparison.Ordinal) || source.EndsWith("\\", StringComparison.Ordinal))
                return source + rel;
            return source + sep + rel;
        }

        /// <summary>
        /// A relative path in the engine's form: '/'-separated, no leading or trailing separator,
        /// no empty components. Null when it holds "." or "..".
        /// </summary>
        internal static string NormalizeRelative(string path)
        {
            if (path == null)
                return "";
            var parts = new List<string>();
            foreach (string part in path.Replace('\\', '/').Split('/'))
            {
                if (part.Length == 0)
                    continue;
                if (part == "." || part == "..")
                    return null;
                parts.Add(part);
            }
            return string.Join("/", parts.ToArray());
        }

        /// <summary>The warning for a point whose record cannot be read.</summary>
        internal static string DamagedPointWarning(RecoveryPointInfo point)
        {
            return string.Format(CultureInfo.InvariantCulture,
                "Recovery point {0} ({1:u}) is damaged: {2} Nothing can be restored from it; Test-OBRecoveryPoint reports it.",
                point.Id, DateTimeOffset.FromUnixTimeSeconds(point.BackupTime).UtcDateTime, point.Problem);
        }

        internal static string SealedPointWarning(RecoveryPointInfo point)
        {
            return string.Format(CultureInfo.InvariantCulture,
                "Recovery point {0} ({1:u}) of server '{2}' is listed under every data source: {3}",
                point.Id, DateTimeOffset.FromUnixTimeSeconds(point.BackupTime).UtcDateTime, point.ServerName, point.Problem);
        }

        /// <summary>A recovery point of one data source, as Get-OBRecoverableItem -Source returns it.</summary>
        internal static OBRecoverableItem PointItem(RecoveryPointInfo point, string source, long datasourceId, string otherServer)
        {
            DateTime when = LocalTime(point.BackupTime);
            return new OBRecoverableItem
            {
                IsDir = true,
                IsRecoveryPoint = true,
                ItemNameFriendly = source,
                ItemNameGuid = ItemGuid(point.Id, datasourceId, ""),
                LocalMountPoint = source,
                MountPointName = source,
                Name = source,
                PointInTime = when,
                ServerName = point.ServerName,
                ItemSize = point.Bytes,
                ItemLastModifiedTime = when,
                RecoverySourceID = datasourceId,
                RecoveryPointLocalTime = when,
                DatasourceId = datasourceId,
                RecoveryPointId = point.Id,
                RelativePath = "",
                OtherServer = otherServer,
                State = point.Damaged ? "Damaged" : "Available",
            };
        }

        /// <summary>A file or folder of the point that parent belongs to.</summary>
        internal static OBRecoverableItem ChildItem(OBRecoverableItem parent, string relativePath, string name, bool isDir,
            ulong size, long? mtime)
        {
            if (string.IsNullOrEmpty(name))
            {
                int slash = relativePath.LastIndexOf('/');
                name = slash < 0 ? relativePath : relativePath.Substring(slash + 1);
            }
            return new OBRecoverableItem
            {
                IsDir = isDir,
                IsRecoveryPoint = false,
                ItemNameFriendly = FriendlyPath(parent.MountPointName, relativePath),
                ItemNameGuid = ItemGuid(parent.RecoveryPointId, parent.DatasourceId, relativePath),
                LocalMountPoint = parent.LocalMountPoint,
                MountPointName = parent.MountPointName,
                Name = name,
                PointInTime = parent.PointInTime,
                ServerName = parent.ServerName,
                ItemSize = isDir ? 0 : size,
                ItemLastModifiedTime = mtime.HasValue ? LocalTime(mtime.Value) : (DateTime?)null,
                RecoverySourceID = parent.RecoverySourceID,
                RecoveryPointLocalTime = parent.RecoveryPointLocalTime,
                DatasourceId = parent.DatasourceId,
                RecoveryPointId = parent.RecoveryPointId,
                RelativePath = relativePath,
                OtherServer = parent.OtherServer,
            };
        }

        internal static OBRecoverableItem FromInfo(OBRecoverableItem parent, RecoverableItemInfo info)
        {
            return ChildItem(parent, info.Path, info.Name, info.IsDir, info.Size, info.MTime);
        }
    }
}
