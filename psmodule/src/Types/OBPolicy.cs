using System;
using System.Collections.Generic;
using System.IO;

namespace OBAgent
{
    /// <summary>Whether a policy object has been committed (MSOnlineBackup: New, Existing).</summary>
    public enum PolicyObjectState
    {
        New = 0,
        Existing = 1,
    }

    /// <summary>Whether scheduled protection runs (MSOnlineBackup OMPolicyStates: Valid, Paused).</summary>
    public enum OBPolicyState
    {
        Valid = 0,
        Paused = 1,
    }

    /// <summary>
    /// One inclusion or exclusion, as New-OBFileSpec makes it. FileSpec is the path as typed;
    /// FilePath the folder (the folder itself for a folder, else the parent); FileName the last
    /// component, or * for a folder.
    /// </summary>
    public sealed class OBFileSpec
    {
        public string FileSpec { get; internal set; }

        public string FilePath { get; internal set; }

        public string FileName { get; internal set; }

        public bool IsExclude { get; internal set; }

        public bool IsRecursive { get; internal set; }

        /// <summary>The normalised absolute path the engine works with.</summary>
        internal string NormalizedPath { get; set; }

        internal bool SameAs(OBFileSpec other)
        {
            return other != null && IsExclude == other.IsExclude
                && string.Equals(NormalizedPath, other.NormalizedPath, StringComparison.Ordinal);
        }

        public override string ToString()
        {
            return (IsExclude ? "Exclude " : "Include ") + FileSpec;
        }
    }

    /// <summary>A data source of a policy: the volume (mount point) that holds some of its file specs.</summary>
    public sealed class OBDataSource
    {
        /// <summary>0 until the policy is committed, then a positive number kept across commits.</summary>
        public long DatasourceId { get; internal set; }

        public string DataSourceName { get; internal set; }

        /// <summary>Same as DataSourceName (both names are used by MSOnlineBackup scripts).</summary>
        public string Name
        {
            get { return DataSourceName; }
        }

        public List<OBFileSpec> FileSpec { get; internal set; }

        /// <summary>The VSS writer of a System State data source (as MARS and Windows Admin Center read it); null otherwise.</summary>
        public Guid? WriterId { get; internal set; }

        /// <summary>The application id of a System State data source (as MARS and Windows Admin Center read it); null otherwise.</summary>
        public Guid? ApplicationId { get; internal set; }

        internal static readonly Guid SystemStateWriterId = new Guid("DA57A531-E7E7-4346-9A68-B511F551DEB6");
        internal static readonly Guid SystemStateApplicationId = new Guid("8C3D00F9-3CE9-4563-B373-19837BC2835E");

        /// <summary>The System State data source ("System State", id 1 once committed: OB_SYSTEMSTATE_DATASOURCE_ID).</summary>
        internal static OBDataSource SystemState(long id)
        {
            return new OBDataSource
            {
                DatasourceId = id,
                DataSourceName = "System State",
                FileSpec = new List<OBFileSpec>(),
                WriterId = SystemStateWriterId,
                ApplicationId = SystemStateApplicationId,
            };
        }

        public override string ToString()
        {
            return DataSourceName;
        }
    }

    /// <summary>
    /// A file and folder backup policy. New-OBPolicy makes an empty one (State New) that stays a
    /// managed object until Set-OBPolicy commits it; Get-OBPolicy returns the committed one
    /// (State Existing, PolicyName a GUID, data sources with their ids).
    /// </summary>
    public sealed class OBPolicy
    {
        private readonly List<OBFileSpec> specs = new List<OBFileSpec>();
        private readonly Dictionary<string, long> knownIds = new Dictionary<string, long>(StringComparer.Ordinal);

        internal OBPolicy()
        {
            DsList = new OBDataSource[0];
            State = PolicyObjectState.New;
            PolicyState = OBPolicyState.Valid;
        }

        public string PolicyName { get; internal set; }

        public PolicyObjectState State { get; internal set; }

        public OBPolicyState PolicyState { get; internal set; }

        /// <summary>
        /// The data sources, an array as in MARS (scripts read .Length, .Count and [0]); a new array
        /// whenever the specs change.
        /// </summary>
        public OBDataSource[] DsList { get; private set; }

        /// <summary>When backups run (Set-OBSchedule); committed by Set-OBPolicy. Null: no scheduled backups.</summary>
        public OBSchedule BackupSchedule { get; internal set; }

        /// <summary>Which recovery points are kept (Set-OBRetentionPolicy); committed by Set-OBPolicy.</summary>
        public OBRetentionPolicy RetentionPolicy { get; internal set; }

        /// <summary>True for a System State policy (Add-OBSystemState, Get-OBSystemStatePolicy).</summary>
        internal bool IsSystemState { get; private set; }

        /// <summary>Make this a System State policy: its only data source is "System State".</summary>
        internal void MarkSystemState(long datasourceId)
        {
            IsSystemState = true;
            specs.Clear();
            DsList = new[] { OBDataSource.SystemState(datasourceId) };
        }

        /// <summary>The file specs in the user's order.</summary>
        internal IList<OBFileSpec> Specs
        {
            get { return specs; }
        }

        /// <summary>A committed policy, as the engine returned it.</summary>
        internal static OBPolicy FromCommitted(string name, OBPolicyState state, IList<OBDataSource> dataSources)
        {
            var p = new OBPolicy { PolicyName = name, State = PolicyObjectState.Existing, PolicyState = state };
            var list = new List<OBDataSource>();
            foreach (OBDataSource ds in dataSources)
            {
                p.knownIds[ds.DataSourceName] = ds.DatasourceId;
                list.Add(ds);
                p.specs.AddRange(ds.FileSpec);
            }
            p.DsList = list.ToArray();
            return p;
        }

        /// <summary>Add a spec unless the same one is there; the data sources follow.</summary>
        internal bool Add(OBFileSpec spec)
        {
            foreach (OBFileSpec s in specs)
            {
                if (s.SameAs(spec))
                    return false;
            }
            specs.Add(spec);
            Regroup();
            return true;
        }

        internal bool Remove(OBFileSpec spec)
        {
            int removed = specs.RemoveAll(s => s.SameAs(spec));
            if (removed > 0)
                Regroup();
            return removed > 0;
        }

        /// <summary>
        /// Group the specs by volume, as the engine does on commit: an inclusion under its volume; an
        /// exclusion under its volume when an inclusion is there, else under the deepest inclusion
        /// that holds it.
        /// </summary>
        private void Regroup()
        {
            var byName = new Dictionary<string, OBDataSource>(StringComparer.Ordinal);
            var list = new List<OBDataSource>();
            var volumes = new Dictionary<OBFileSpec, string>();
            foreach (OBFileSpec s in specs)
            {
                if (!s.IsExclude)
                    volumes[s] = VolumeOf(BaseOf(s));
            }
            foreach (OBFileSpec s in specs)
            {
                string volume;
                if (!s.IsExclude)
                {
                    volume = volumes[s];
                }
                else
                {
                    volume = VolumeOf(BaseOf(s));
                    if (!volumes.ContainsValue(volume))
                    {
                        string deepest = null;
                        foreach (KeyValuePair<OBFileSpec, string> inc in volumes)
                        {
                            string incBase = BaseOf(inc.Key);
                            if (Within(BaseOf(s), incBase) && (deepest == null || incBase.Length > deepest.Length))
                            {
                                deepest = incBase;
                                volume = inc.Value;
                            }
                        }
                    }
                }
                OBDataSource ds;
                if (!byName.TryGetValue(volume, out ds))
                {
                    long id;
                    knownIds.TryGetValue(volume, out id);
                    ds = new OBDataSource { DataSourceName = volume, DatasourceId = id, FileSpec = new List<OBFileSpec>() };
                    byName[volume] = ds;
                    list.Add(ds);
                }
                ds.FileSpec.Add(s);
            }
            DsList = list.ToArray();
        }

        private static string BaseOf(OBFileSpec s)
        {
            string path = s.NormalizedPath ?? s.FileSpec;
            string last = Path.GetFileName(path);
            if (last != null && last.IndexOfAny(new[] { '*', '?' }) >= 0)
                return Path.GetDirectoryName(path) ?? path;
            return path;
        }

        internal static bool Within(string path, string root)
        {
            if (root.Length == 0 || path.Length < root.Length)
                return false;
            StringComparison cmp = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (!path.StartsWith(root, cmp))
                return false;
            char last = root[root.Length - 1];
            return path.Length == root.Length || last == '/' || last == '\\'
                || path[root.Length] == '/' || path[root.Length] == '\\';
        }

        /// <summary>The mount point (drive) that holds a path: the longest one that is a parent of it.</summary>
        internal static string VolumeOf(string path)
        {
            string best = null;
            try
            {
                foreach (DriveInfo d in DriveInfo.GetDrives())
                {
                    string root = d.Name;
                    if (root.Length > 1 && !root.EndsWith(":\\", StringComparison.Ordinal))
                        root = root.TrimEnd('/', '\\');
                    if (root.Length == 0)
                        root = "/";
                    if (Within(path, root) && (best == null || root.Length > best.Length))
                        best = root;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            return best ?? (Path.GetPathRoot(path) ?? "/");
        }

        public override string ToString()
        {
            return PolicyName ?? "(new policy)";
        }
    }
}
