-- request_resync accepted dropped leading zeros ('NCT123' became NCT00000123), so a typo queued a
-- different study. Like every other entry point it now takes NCT followed by exactly 8 digits (any
-- case, surrounding blanks ignored), as its error message always said.
create or replace function ctgov.request_resync(ids text[], reason text default null)
returns setof bigint
language plpgsql
as $$
declare
  bad text;
begin
  if ids is null or cardinality(ids) = 0 then
    raise exception 'request_resync: no NCT IDs given' using errcode = '22023';
  end if;
  select x into bad
    from unnest(ids) as x
   where x is null or x !~* '^\s*nct[0-9]{8}\s*$' or x ~* '^\s*nct0{8}\s*$'
   limit 1;
  if found then
    raise exception 'invalid NCT ID %: expected NCT followed by 8 digits', coalesce(quote_literal(bad), 'NULL')
      using errcode = '22023';
  end if;
  return query
    insert into ctgov.resync_requests (nct_id, reason)
    select distinct upper(trim(x)), request_resync.reason
      from unnest(ids) as x
    returning id;
  perform pg_notify('ctgov_resync', '');
end;
$$;
