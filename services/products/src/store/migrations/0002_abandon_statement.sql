-- Lets a single statement give up as a whole: raising an error rolls back everything it wrote (its implicit
-- transaction), which a data-modifying CTE cannot otherwise do once its inserts have run. SQLSTATE SH001 tells the
-- caller it was this and not a failure (see product-create-statement.ts).
create function abandon_statement(reason text) returns void language plpgsql as $$
begin
  raise exception using errcode = 'SH001', message = reason;
end
$$;
